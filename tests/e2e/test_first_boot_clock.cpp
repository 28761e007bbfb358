// End to end: the first boot of a Pi without a real-time clock. The wall clock cannot be set back in a
// test, so the test hook FIELDGATE_TEST_CLOCK_SET_AFTER moves the floor of a plausible clock into the
// future instead (loop/clock_watch.hpp): to the gateway the clock then reads "not set yet". With
// [replication] and a new state directory, the gateway must serve its serial device at once (readings
// with seq and without time), say once that the register waits for the clock, leave the state directory
// untouched, and start the register when the clock becomes plausible.

#include <stdlib.h>

#include "tests/e2e/e2e_support.hpp"
#include "tests/e2e/replication_site.hpp"

namespace fg::e2e {
namespace {

class E2eFirstBootClock : public E2eTest {
 protected:
  void TearDown() override {
    E2eTest::TearDown();
    ::unsetenv("FIELDGATE_TEST_CLOCK_SET_AFTER");
  }

  // Makes the gateway started next see its clock as not set until `floor` (wall-clock time).
  static void clock_set_after(std::chrono::system_clock::time_point floor) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(floor.time_since_epoch()).count();
    ::setenv("FIELDGATE_TEST_CLOCK_SET_AFTER", std::to_string(ms).c_str(), 1);
  }

  // The register's state directory ([replication] state_dir), beside the gateway's own (state_dir()).
  std::filesystem::path register_dir() const { return dir() / "register"; }

  // One kv serial device "kv", and a site of one member with a new (absent) state directory.
  std::string config_with_replication() {
    std::filesystem::path key = dir() / "site.key";
    auto status =
        run_to_end({FIELDGATE_BINARY, "keygen", key.string()}, dir() / "keygen.log", dir() / "keygen.log");
    EXPECT_TRUE(status && *status == 0) << read_text(dir() / "keygen.log");
    return config_head() + serial_head("kv") + "parser = \"kv\"\n[serial.channels.t]\nunit = \"C\"\n\n" +
           "[replication]\nnode = 1\nlisten = \"127.0.0.1:" + std::to_string(free_udp_port()) +
           "\"\nkey_file = \"" + key.string() + "\"\nstate_dir = \"" + register_dir().string() + "\"\n";
  }

  // Waits until the gateway's log holds `text`.
  bool wait_log(const std::string& text, std::chrono::milliseconds timeout = kWait) {
    auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      if (log().find(text) != std::string::npos) {
        return true;
      }
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  static std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
      ++n;
    }
    return n;
  }
};

TEST_F(E2eFirstBootClock, ServesSerialAtOnceWhileTheRegisterWaitsForTheClock) {
  clock_set_after(std::chrono::system_clock::now() + std::chrono::hours(24));
  auto& dev = add_device("kv");
  ASSERT_NO_FATAL_FAILURE(start_gateway(config_with_replication(), {"kv"}));

  ASSERT_TRUE(dev.send("t=21.5\nt=22\n"));
  auto readings = wait_readings(topic("kv/t"), 2);
  ASSERT_EQ(readings.size(), 2u) << diagnostics();
  for (std::size_t i = 0; i < readings.size(); ++i) {
    EXPECT_EQ(readings[i]["seq"], i + 1) << readings[i].dump();
    EXPECT_EQ(readings[i]["unit"], "C") << readings[i].dump();
    EXPECT_FALSE(readings[i].contains("time")) << "a time from a clock not set yet: " << readings[i].dump();
  }
  EXPECT_EQ(readings[0]["value"], 21.5);

  std::string text = log();
  EXPECT_EQ(count(text, "waiting for the wall clock to be set"), 1u) << diagnostics();
  EXPECT_EQ(count(text, "replication: member"), 0u) << "the register started" << diagnostics();
  EXPECT_FALSE(std::filesystem::exists(register_dir())) << "the state directory was opened";
  stop_gateway();
}

// The clock becomes plausible while the gateway runs (here: the floor is passed by the running clock, the
// case of a clock that drifts or slews into plausibility; a step by NTP wakes the same timerfd, which
// tests/loop/test_clock_watch.cpp shows as root): the register starts, and readings carry their time.
TEST_F(E2eFirstBootClock, StartsTheRegisterWhenTheClockBecomesPlausible) {
  auto floor = std::chrono::system_clock::now() + 3s;
  clock_set_after(floor);
  auto& dev = add_device("kv");
  ASSERT_NO_FATAL_FAILURE(start_gateway(config_with_replication(), {"kv"}));

  ASSERT_TRUE(wait_log("replication: member 1 of a site of 1")) << diagnostics();
  EXPECT_GE(std::chrono::system_clock::now(), floor);
  std::string text = log();
  EXPECT_LT(text.find("waiting for the wall clock to be set"), text.find("the wall clock is set"))
      << diagnostics();
  EXPECT_TRUE(std::filesystem::exists(register_dir() / "epoch")) << diagnostics();

  ASSERT_TRUE(dev.send("t=23\n"));
  auto readings = wait_readings(topic("kv/t"), 1);
  ASSERT_EQ(readings.size(), 1u) << diagnostics();
  EXPECT_TRUE(readings[0].contains("time")) << readings[0].dump();
  stop_gateway();
}

// A command applied while the register waits for the clock is newer than anything the register holds:
// when the register starts, the command's state is written to it, and the output is not restored over.
TEST_F(E2eFirstBootClock, AnOutputCommandedWhileWaitingKeepsItsStateAndReachesTheRegister) {
  auto floor = std::chrono::system_clock::now() + 3s;
  clock_set_after(floor);
  auto& dev = add_device("kv");
  std::string config = config_with_replication();
  config.replace(config.find("[replication]"), 0,
                 "[serial.channels.relay]\nkind = \"text\"\nset_format = \"RELAY={value}\"\n\n");
  ASSERT_NO_FATAL_FAILURE(start_gateway(config, {"kv"}));
  ASSERT_TRUE(wait_log("waiting for the wall clock to be set")) << diagnostics();

  test::MqttClient pub;
  ASSERT_TRUE(pub.connect("127.0.0.1", broker_.port()));
  ASSERT_TRUE(pub.publish(topic("kv/relay/set"), "on"));
  EXPECT_EQ(read_until(dev.master_fd(),
                       [](const std::string& got) { return got.find("RELAY=on\n") != std::string::npos; }),
            "RELAY=on\n")
      << "the command was not applied while the register waits" << diagnostics();
  ASSERT_LT(std::chrono::system_clock::now(), floor) << "too slow: the clock became plausible already";

  ASSERT_TRUE(wait_log("replication: member 1 of a site of 1")) << diagnostics();
  // The register answers with the commanded state.
  ASSERT_TRUE(pub.subscribe(topic("register/value/#")));
  std::optional<test::MqttMessage> answer;
  auto deadline = Clock::now() + kWait;
  while (Clock::now() < deadline) {
    std::size_t from = pub.messages().size();
    ASSERT_TRUE(pub.publish(topic("register/get/t1/kv/relay/desired"), "r"));
    answer = pub.wait_message(topic("register/value/t1/kv/relay/desired"), std::nullopt, from, 2s);
    if (answer && Json::parse(answer->payload, nullptr, false).value("value", Json()) == "on") {
      break;
    }
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(answer) << diagnostics();
  EXPECT_EQ(Json::parse(answer->payload, nullptr, false).value("value", Json()), "on") << answer->payload;
  // Nothing was restored over the command, and the device got no second write.
  EXPECT_EQ(log().find("restored relay"), std::string::npos) << diagnostics();
  EXPECT_EQ(read_until(
                dev.master_fd(), [](const std::string&) { return false; }, 300ms),
            "");
  stop_gateway();
}

}  // namespace
}  // namespace fg::e2e
