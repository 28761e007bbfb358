// Keepalive: the session checks it every quarter of the keepalive (mqtt/session_core.hpp, misc_interval),
// not every second, so an idle gateway sleeps. These show that the rarer check still keeps an idle
// connection open and still notices a broker that stopped answering.

#include "mqtt/session_core.hpp"
#include "tests/mqtt/mqtt_test_support.hpp"

namespace fg::mqtt::test {
namespace {

class MqttKeepalive : public MqttTest {
 protected:
  // A session with a 5 s keepalive, connected to `broker`, its states in `rec`.
  Session connected(fg::test::MosquittoBroker& broker, const char* id, Recorder& rec) {
    auto options = local_options(broker.port(), id);
    options.keepalive = 5s;
    auto session = make_session(options);
    connect(session, rec);
    return session;
  }
};

TEST(MqttKeepaliveInterval, AQuarterOfTheKeepaliveAtLeastASecondNoneWhenOff) {
  EXPECT_EQ(detail::misc_interval(30s), 7500ms);
  EXPECT_EQ(detail::misc_interval(5s), 1250ms);
  EXPECT_EQ(detail::misc_interval(3s), 1s);
  EXPECT_EQ(detail::misc_interval(0s), 0ms);
}

// mosquitto closes a client it heard nothing from for more than 1.5 keepalives (7 s here, in whole
// seconds), checking about every 6 s: the session must send PINGREQ in time, though it publishes nothing
// for 20 s. (A check every 10 s would be closed at about 18 s.)
TEST_F(MqttKeepalive, AnIdleSessionStaysConnectedPastOneAndAHalfKeepalives) {
  fg::test::MosquittoBroker broker;
  ASSERT_TRUE(broker.start()) << broker.last_error();
  Recorder rec;
  auto session = connected(broker, "idle", rec);
  EXPECT_FALSE(run_until([&] { return rec.disconnected(); }, 20s)) << broker.log();
  EXPECT_EQ(rec.count(State::disconnected), 0);
  EXPECT_EQ(session.counters().reconnects, 0u);
  close(session);
}

// A stopped broker keeps the TCP connection open and answers no PINGREQ: only the keepalive can tell.
// With a 5 s keepalive the PINGREQ goes out 5 - 6.25 s after the last packet and the loss is seen 5 -
// 6.25 s after that: within 15 s (a check every 10 s would see it at 20 s).
TEST_F(MqttKeepalive, ABrokerThatStopsAnsweringIsNoticedWithinTheKeepalive) {
  fg::test::MosquittoBroker broker;
  ASSERT_TRUE(broker.start()) << broker.last_error();
  Recorder rec;
  auto session = connected(broker, "watchful", rec);
  ASSERT_TRUE(broker.pause());
  EXPECT_TRUE(run_until([&] { return rec.disconnected(); }, 15s));
  broker.resume();
  ASSERT_TRUE(rec.disconnected());
  EXPECT_EQ(rec.states.back().reason, std::errc::timed_out) << rec.states.back().reason.message();
  close(session);
}

}  // namespace
}  // namespace fg::mqtt::test
