// The last will and the clean shutdown: a killed session process makes the broker publish the will; a
// clean shutdown publishes the final message, waits for acknowledgements and leaves no will behind.

#include <signal.h>

#include "tests/mqtt/mqtt_test_support.hpp"

namespace fg::mqtt::test {
namespace {

using MqttWill = MqttTest;

TEST_F(MqttWill, WillIsPublishedWhenTheSessionProcessIsKilled) {
  fg::test::MosquittoBroker broker;
  ASSERT_TRUE(broker.start()) << broker.last_error();
  auto observer = make_session(local_options(broker.port(), "observer"));
  Recorder seen;
  ASSERT_FALSE(observer.subscribe("gw7/status", Qos::at_least_once));
  connect(observer, seen);

  fg::test::ChildProcess child;
  std::string error;
  auto argv = fg::test::own_program(FG_MQTT_SESSION_CHILD);
  argv.insert(argv.end(), {std::to_string(broker.port()), "gw7", "gw7/status"});
  ASSERT_TRUE(child.spawn(argv, broker.dir() / "child.log", &error)) << error;
  ASSERT_TRUE(run_until([&] {
    auto p = seen.payloads("gw7/status");
    return !p.empty() && p.back() == "online";
  })) << "the child's birth message never came";

  child.kill();  // SIGKILL: the kernel closes the socket, the session says nothing
  ASSERT_TRUE(run_until([&] {
    auto p = seen.payloads("gw7/status");
    return !p.empty() && p.back() == "offline";
  })) << "the will never came";

  // The will was retained: a subscriber that comes later still learns the gateway is offline.
  auto late = make_session(local_options(broker.port(), "late"));
  Recorder late_seen;
  ASSERT_FALSE(late.subscribe("gw7/status", Qos::at_least_once));
  connect(late, late_seen);
  ASSERT_TRUE(run_until([&] { return late_seen.last("gw7/status") != nullptr; }));
  EXPECT_EQ(late_seen.last("gw7/status")->payload, "offline");
  EXPECT_TRUE(late_seen.last("gw7/status")->retain);

  close(late);
  close(observer);
}

TEST_F(MqttWill, CleanShutdownPublishesTheFinalMessageAndNoWill) {
  fg::test::MosquittoBroker broker;
  ASSERT_TRUE(broker.start()) << broker.last_error();
  auto observer = make_session(local_options(broker.port(), "observer"));
  Recorder seen;
  ASSERT_FALSE(observer.subscribe("gw8/#", Qos::at_least_once));
  connect(observer, seen);

  auto options = local_options(broker.port(), "gw8");
  // A will that differs from the final message, so the test can tell them apart.
  options.will = Publication{"gw8/status", "lost", Qos::at_least_once, true};
  options.birth = Publication{"gw8/status", "online", Qos::at_least_once, true};
  auto gateway = make_session(options);
  Recorder gw;
  connect(gateway, gw);
  ASSERT_TRUE(run_until([&] { return !seen.payloads("gw8/status").empty(); }));

  close(gateway, 2s, Publication{"gw8/status", "offline", Qos::at_least_once, true});
  EXPECT_EQ(gateway.counters().acknowledged, gateway.counters().published) << "birth and final acknowledged";

  // A sentinel sent after the gateway is gone arrives after anything the broker did on its close.
  ASSERT_FALSE(observer.publish("gw8/sentinel", "x", Qos::at_least_once));
  ASSERT_TRUE(run_until([&] { return !seen.payloads("gw8/sentinel").empty(); }));
  EXPECT_EQ(seen.payloads("gw8/status"), (std::vector<std::string>{"online", "offline"})) << "no will";

  auto late = make_session(local_options(broker.port(), "late"));
  Recorder late_seen;
  ASSERT_FALSE(late.subscribe("gw8/status", Qos::at_least_once));
  connect(late, late_seen);
  ASSERT_TRUE(run_until([&] { return late_seen.last("gw8/status") != nullptr; }));
  EXPECT_EQ(late_seen.last("gw8/status")->payload, "offline");
  EXPECT_TRUE(late_seen.last("gw8/status")->retain);
  close(late);
  close(observer);
}

TEST_F(MqttWill, ShutdownWaitsUntilEveryMessageInFlightIsAcknowledged) {
  fg::test::MosquittoBroker broker;
  ASSERT_TRUE(broker.start()) << broker.last_error();
  auto observer = make_session(local_options(broker.port(), "observer"));
  Recorder seen;
  ASSERT_FALSE(observer.subscribe("burst/#", Qos::exactly_once));
  connect(observer, seen);
  ASSERT_FALSE(observer.publish("burst/ready", "x", Qos::at_least_once));
  ASSERT_TRUE(run_until([&] { return !seen.payloads("burst/ready").empty(); }));

  auto gateway = make_session(local_options(broker.port(), "bursty"));
  Recorder gw;
  connect(gateway, gw);
  // More than libmosquitto's 20 messages in flight, so some wait in its queue at shutdown().
  constexpr int kCount = 60;
  for (int i = 0; i < kCount; ++i) {
    ASSERT_FALSE(gateway.publish(i < 40 ? "burst/one" : "burst/two", std::to_string(i),
                                 i < 40 ? Qos::at_least_once : Qos::exactly_once));
  }
  EXPECT_GT(gateway.in_flight(), 0u);
  close(gateway, 5s);
  EXPECT_EQ(gateway.counters().acknowledged, static_cast<std::uint64_t>(kCount));
  ASSERT_TRUE(run_until([&] { return seen.messages.size() >= kCount + 1; }));
  // MQTT orders messages of one QoS level; QoS 1 and 2 flows may interleave.
  std::vector<std::string> one, two;
  for (int i = 0; i < kCount; ++i) {
    (i < 40 ? one : two).push_back(std::to_string(i));
  }
  EXPECT_EQ(seen.payloads("burst/one"), one);
  EXPECT_EQ(seen.payloads("burst/two"), two);
  close(observer);
}

TEST_F(MqttWill, ShutdownGivesUpWaitingAfterTheTimeout) {
  fg::test::MosquittoBroker broker;
  ASSERT_TRUE(broker.start()) << broker.last_error();
  auto gateway = make_session(local_options(broker.port(), "impatient"));
  Recorder gw;
  connect(gateway, gw);
  // A stopped broker keeps the connection open and acknowledges nothing.
  ASSERT_TRUE(broker.pause());
  ASSERT_FALSE(gateway.publish("t", "never acknowledged", Qos::at_least_once));
  close(gateway, 200ms);
  EXPECT_EQ(gateway.counters().acknowledged, 0u);
  broker.resume();
}

TEST_F(MqttWill, ShutdownWhileDisconnectedFinishesAtOnceAndCountsWhatWasNotSent) {
  fg::test::MosquittoBroker broker;  // never started
  auto session = make_session(local_options(broker.port(), "alone"));
  Recorder rec;
  rec.attach(session);
  ASSERT_FALSE(session.start());
  ASSERT_TRUE(run_until([&] { return rec.disconnected(); }));
  ASSERT_FALSE(session.publish("t", "1", Qos::at_least_once));
  ASSERT_FALSE(session.publish("t", "2", Qos::at_least_once));
  close(session, 5s, Publication{"t/status", "offline", Qos::at_least_once, true});
  EXPECT_EQ(session.counters().dropped, 3u);
  EXPECT_EQ(session.shutdown(1s, std::nullopt, [] {}), std::errc::operation_in_progress);
}

}  // namespace
}  // namespace fg::mqtt::test
