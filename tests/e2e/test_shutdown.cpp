// End to end: how fieldgate ends. SIGTERM (and SIGINT) is an orderly shutdown: exit status 0 well within
// systemd's TimeoutStopSec, with the retained "<prefix>/<id>/status" and every "<...>/<device>/status"
// left "offline". SIGKILL leaves it to the broker: the will makes the gateway's status "offline".

#include <iostream>
#include <string>

#include "tests/e2e/e2e_support.hpp"

namespace fg::e2e {
namespace {

class E2eShutdown : public E2eTest {
 protected:
  // The retained value of `topic`, as a fresh subscriber sees it (waiting for `expected`, so a value the
  // broker is still about to publish, such as a will, is seen too).
  std::string retained(const std::string& topic_name, const std::string& expected) {
    test::MqttClient fresh;
    EXPECT_TRUE(fresh.connect("127.0.0.1", broker_.port()));
    EXPECT_TRUE(fresh.subscribe(topic_name));
    auto m = fresh.wait_message(topic_name, expected);
    if (m) {
      EXPECT_TRUE(m->retain) << topic_name << " " << m->payload << " is not retained";
      return m->payload;
    }
    auto all = fresh.on_topic(topic_name);
    return all.empty() ? "(nothing retained)" : all.back().payload;
  }

  void start_two_devices() {
    add_device("a");
    add_device("b");
    std::string config = config_head() + serial_head("a") + serial_head("b");
    ASSERT_NO_FATAL_FAILURE(start_gateway(config, {"a", "b"}));
    ASSERT_TRUE(device("a").send("t=1\n"));
    ASSERT_EQ(wait_payloads(topic("a/t"), 1).size(), 1u) << diagnostics();
  }
};

TEST_F(E2eShutdown, SigtermExitsWithZeroSoonAndLeavesEveryStatusOffline) {
  ASSERT_NO_FATAL_FAILURE(start_two_devices());

  auto took = stop_gateway();  // checks exit status 0 and a clean log
  std::cout << "[ MEASURED ] SIGTERM to exit: " << took.count() << " ms\n";
  RecordProperty("sigterm_exit_ms", static_cast<int>(took.count()));
  EXPECT_LT(took, 5s) << "systemd's TimeoutStopSec would have killed it" << diagnostics();
  EXPECT_NE(log().find("stopped"), std::string::npos) << diagnostics();

  EXPECT_EQ(retained(status_topic(), "offline"), "offline") << diagnostics();
  EXPECT_EQ(retained(device_status_topic("a"), "offline"), "offline") << diagnostics();
  EXPECT_EQ(retained(device_status_topic("b"), "offline"), "offline") << diagnostics();
}

TEST_F(E2eShutdown, SigintIsAnOrderlyShutdownToo) {
  ASSERT_NO_FATAL_FAILURE(start_two_devices());

  gateway_.signal(SIGINT);
  ASSERT_TRUE(gateway_.wait_exit(kWait)) << diagnostics();
  auto status = gateway_.status();
  EXPECT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
      << Process::describe(status) << diagnostics();
  expect_clean_log();
  EXPECT_EQ(retained(status_topic(), "offline"), "offline") << diagnostics();
  EXPECT_EQ(retained(device_status_topic("a"), "offline"), "offline") << diagnostics();
}

TEST_F(E2eShutdown, SigtermWithoutABrokerStillExitsWithZeroSoon) {
  ASSERT_NO_FATAL_FAILURE(start_two_devices());
  const std::size_t log_mark = log().size();
  broker_.kill();
  auto deadline = Clock::now() + kWait;
  while (log().substr(log_mark).find("(next attempt in") == std::string::npos) {
    ASSERT_LT(Clock::now(), deadline) << "fieldgate did not notice the broker's death" << diagnostics();
    std::this_thread::sleep_for(5ms);
  }
  auto took = stop_gateway();
  std::cout << "[ MEASURED ] SIGTERM to exit without a broker: " << took.count() << " ms\n";
  EXPECT_LT(took, 5s) << diagnostics();
}

TEST_F(E2eShutdown, SigkillLeavesItToTheWill) {
  ASSERT_NO_FATAL_FAILURE(start_two_devices());

  gateway_.kill();  // SIGKILL and reap
  auto status = gateway_.status();
  ASSERT_TRUE(status && WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL) << Process::describe(status);

  EXPECT_EQ(retained(status_topic(), "offline"), "offline") << "the will was not published" << diagnostics();
  // The devices have no will of their own: their retained status still says what it said last. A
  // consumer must read a device's availability together with the gateway's (Home Assistant does, with
  // availability_mode = all).
  std::cout << "[ OBSERVED ] device status after SIGKILL: " << retained(device_status_topic("a"), "online")
            << "\n";
}

}  // namespace
}  // namespace fg::e2e
