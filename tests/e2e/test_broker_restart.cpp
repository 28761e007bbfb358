// End to end: the broker is killed (SIGKILL, as in a crash) and started again on the same port. fieldgate
// reconnects by itself, says "online" again, publishes its readings again, restores its command
// subscriptions, and delivers what it read while the broker was away (its outbox).

#include <string>

#include "tests/e2e/e2e_support.hpp"

namespace fg::e2e {
namespace {

class E2eBrokerRestart : public E2eTest {};

TEST_F(E2eBrokerRestart, GatewayReconnectsRestoresSubscriptionsAndSendsItsOutbox) {
  auto& dev = add_device("dev");
  // Readings retained here, each on its own channel: whichever of fieldgate and the subscriber gets back
  // to the restarted broker first, the readings of the outbox are then still there for the subscriber.
  std::string config = config_head("retain = true\nreconnect_min = \"100ms\"\nreconnect_max = \"500ms\"\n") +
                       serial_head("dev") + "parser = \"kv\"\n";
  ASSERT_NO_FATAL_FAILURE(start_gateway(config, {"dev"}));

  ASSERT_TRUE(dev.send("t=1\n"));
  ASSERT_EQ(wait_payloads(topic("dev/t"), 1).size(), 1u) << diagnostics();
  const pid_t gateway_pid = gateway_.pid();

  const std::size_t log_mark = log().size();
  broker_.kill();
  // Wait until fieldgate has noticed (it logs the loss with its next attempt), so the next lines are read
  // while it has no broker.
  auto deadline = Clock::now() + kWait;
  while (log().substr(log_mark).find("(next attempt in") == std::string::npos) {
    ASSERT_LT(Clock::now(), deadline) << "fieldgate did not notice the broker's death" << diagnostics();
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_TRUE(dev.send("a=10\nb=20\nc=30\n"));
  // fieldgate has read them (its counters say 4 readings) before the broker comes back.
  ASSERT_TRUE(wait_counters("dev: ", " bytes read, ", [](const std::string& line) {
    return counter(line, " readings") >= 4;
  })) << diagnostics();

  const std::size_t mark = sub_->size();
  ASSERT_TRUE(broker_.restart()) << broker_.last_error();

  // The same process says "online" again (the broker kept no retained message across its restart, so
  // this one is new) ...
  ASSERT_TRUE(sub_->wait_message(status_topic(), "online", mark))
      << "no online after the restart" << diagnostics();
  EXPECT_EQ(gateway_.pid(), gateway_pid);
  EXPECT_TRUE(gateway_.running()) << diagnostics();
  ASSERT_TRUE(sub_->wait_message(device_status_topic("dev"), "online", mark)) << diagnostics();

  // ... delivers what it read while the broker was gone ...
  for (const char* channel : {"a", "b", "c"}) {
    auto reading = sub_->wait_message(topic(std::string("dev/") + channel), std::nullopt, mark);
    ASSERT_TRUE(reading) << "the reading of " << channel << " from the outage was lost" << diagnostics();
    Json j = Json::parse(reading->payload, nullptr, false);
    EXPECT_EQ(j.value("seq", 0), 1) << reading->payload;
  }
  EXPECT_EQ(Json::parse(sub_->wait_message(topic("dev/b"), std::nullopt, mark)->payload).value("value", 0.0),
            20.0);

  // ... publishes new readings ...
  ASSERT_TRUE(dev.send("t=2\n"));
  // (t=1 could come back first as a retained value; wait for the new one.)
  ASSERT_TRUE(sub_->wait_for([&](const std::vector<test::MqttMessage>& all) {
    for (std::size_t i = mark; i < all.size(); ++i) {
      if (all[i].topic == topic("dev/t") &&
          Json::parse(all[i].payload, nullptr, false).value("value", 0.0) == 2.0) {
        return true;
      }
    }
    return false;
  })) << "no new reading after the restart"
      << diagnostics();

  // ... and takes commands again: its subscriptions were made again.
  ASSERT_TRUE(sub_->publish(topic("dev/write"), "AFTER RESTART"));
  std::string got = read_exactly(dev.master_fd(), "AFTER RESTART\n");
  EXPECT_EQ(escaped(got), "AFTER RESTART\\n") << diagnostics();

  std::string mqtt = mqtt_counters_line();
  EXPECT_GE(counter(mqtt, " reconnects"), 1) << mqtt;
  EXPECT_EQ(counter(mqtt, " dropped"), 0) << mqtt;
}

}  // namespace
}  // namespace fg::e2e
