// Reconnection: a broker killed and restarted on the same port, the outbox while disconnected, and the
// backoff between attempts.

#include "tests/mqtt/mqtt_test_support.hpp"

namespace fg::mqtt::test {
namespace {

using MqttReconnect = MqttTest;

TEST_F(MqttReconnect, BrokerKilledAndRestartedSessionComesBackWithSubscriptionsAndOutboxInOrder) {
  fg::test::MosquittoBroker broker;
  ASSERT_TRUE(broker.start()) << broker.last_error();
  auto options = local_options(broker.port(), "survivor");
  options.birth = Publication{"r/status", "online", Qos::at_least_once, true};
  auto session = make_session(options);
  Recorder rec;
  // The session subscribes to what it publishes itself: after the restart the broker knows nothing of
  // it, so receiving its own outbox proves the subscription was restored first.
  ASSERT_FALSE(session.subscribe("r/data/#", Qos::at_least_once));
  connect(session, rec);
  ASSERT_FALSE(session.publish("r/data/x", "before", Qos::at_least_once));
  ASSERT_TRUE(run_until([&] { return rec.messages.size() == 1 && session.in_flight() == 0; }));

  broker.kill();
  ASSERT_TRUE(run_until([&] { return rec.disconnected(); }));
  EXPECT_TRUE(rec.states.back().reason) << "the loss has a reason";
  for (const char* payload : {"1", "2", "3"}) {
    ASSERT_FALSE(session.publish("r/data/x", payload, Qos::at_least_once));
  }
  ASSERT_FALSE(session.publish("r/data/x", "4-qos0", Qos::at_most_once));
  EXPECT_EQ(session.outbox_size(), 4u);
  EXPECT_EQ(session.state(), State::disconnected);

  ASSERT_TRUE(broker.restart()) << broker.last_error();
  ASSERT_TRUE(run_until([&] { return rec.messages.size() >= 5; }, 10s)) << broker.log();
  EXPECT_EQ(rec.payloads("r/data/x"), (std::vector<std::string>{"before", "1", "2", "3", "4-qos0"}));
  EXPECT_EQ(session.outbox_size(), 0u);
  EXPECT_EQ(session.counters().reconnects, 1u);
  EXPECT_EQ(session.counters().dropped, 0u);
  EXPECT_EQ(rec.count(State::connected), 2);

  // The birth message was published again after the reconnect: the new broker has it retained.
  auto late = make_session(local_options(broker.port(), "late"));
  Recorder late_rec;
  ASSERT_FALSE(late.subscribe("r/status", Qos::at_least_once));
  connect(late, late_rec);
  ASSERT_TRUE(run_until([&] { return !late_rec.payloads("r/status").empty(); }));
  EXPECT_EQ(late_rec.payloads("r/status").front(), "online");

  close(late);
  close(session);
}

TEST_F(MqttReconnect, OutboxOverflowDropsTheOldestAndCountsIt) {
  fg::test::MosquittoBroker broker;  // down at first
  auto options = local_options(broker.port(), "overflow");
  options.outbox_limit = 3;
  auto session = make_session(options);
  Recorder rec;
  rec.attach(session);
  ASSERT_FALSE(session.subscribe("o/#", Qos::at_least_once));
  ASSERT_FALSE(session.start());
  ASSERT_TRUE(run_until([&] { return rec.disconnected(); }));
  for (int i = 0; i < 10; ++i) {
    ASSERT_FALSE(session.publish("o/n", std::to_string(i), Qos::at_least_once));
  }
  EXPECT_EQ(session.outbox_size(), 3u);
  EXPECT_EQ(session.counters().dropped, 7u);

  ASSERT_TRUE(broker.start()) << broker.last_error();
  ASSERT_TRUE(run_until([&] { return rec.messages.size() >= 3; }));
  EXPECT_EQ(rec.payloads("o/n"), (std::vector<std::string>{"7", "8", "9"}));
  EXPECT_EQ(session.counters().published, 3u);
  close(session);
  EXPECT_EQ(session.counters().dropped, 7u);
}

TEST_F(MqttReconnect, RetryDelaysGrowExponentiallyWithJitterUpToTheCap) {
  fg::test::MosquittoBroker broker;  // never started: every attempt is refused
  auto options = local_options(broker.port(), "patient");
  options.reconnect.initial = 10ms;
  options.reconnect.max = 80ms;
  auto session = make_session(options);
  Recorder rec;
  rec.attach(session);
  ASSERT_FALSE(session.start());
  ASSERT_TRUE(run_until([&] { return rec.count(State::disconnected) >= 7; }));
  const std::chrono::milliseconds bases[] = {10ms, 20ms, 40ms, 80ms, 80ms, 80ms, 80ms};
  for (int i = 0; i < 7; ++i) {
    EXPECT_GE(rec.states[i].retry_in, bases[i] / 2) << "attempt " << i;
    EXPECT_LE(rec.states[i].retry_in, bases[i]) << "attempt " << i;
  }
  close(session);
}

// Two sessions fail three times, connect, and lose the broker: the one whose connection counted as
// stable starts again from the initial delay, the other keeps its grown delay.
TEST_F(MqttReconnect, OnlyAStableConnectionResetsTheBackoff) {
  fg::test::MosquittoBroker broker;
  auto stable_options = local_options(broker.port(), "stable");
  stable_options.reconnect.stable_after = 0ms;
  auto flaky_options = local_options(broker.port(), "flaky");
  flaky_options.reconnect.stable_after = std::chrono::hours(1);
  auto stable = make_session(stable_options);
  auto flaky = make_session(flaky_options);
  Recorder stable_rec, flaky_rec;
  stable_rec.attach(stable);
  flaky_rec.attach(flaky);
  ASSERT_FALSE(stable.start());
  ASSERT_FALSE(flaky.start());
  ASSERT_TRUE(run_until([&] {
    return stable_rec.count(State::disconnected) >= 3 && flaky_rec.count(State::disconnected) >= 3;
  }));
  ASSERT_TRUE(broker.start()) << broker.last_error();
  ASSERT_TRUE(run_until([&] { return stable_rec.connected() && flaky_rec.connected(); }));
  broker.kill();
  ASSERT_TRUE(run_until([&] { return stable_rec.disconnected() && flaky_rec.disconnected(); }));
  EXPECT_LE(stable_rec.states.back().retry_in, stable_options.reconnect.initial);
  EXPECT_GE(flaky_rec.states.back().retry_in, flaky_options.reconnect.max / 2);
  close(stable);
  close(flaky);
}

}  // namespace
}  // namespace fg::mqtt::test
