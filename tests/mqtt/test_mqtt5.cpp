// MQTT 5: the same session over protocol version 5, and the broker's reason codes reaching the caller.

#include "tests/mqtt/mqtt_test_support.hpp"

namespace fg::mqtt::test {
namespace {

using Mqtt5 = MqttTest;

Options v5(Options options) {
  options.protocol = Protocol::v5;
  return options;
}

TEST_F(Mqtt5, RoundTripAtEveryQosWithRetainedBirth) {
  fg::test::MosquittoBroker broker;
  ASSERT_TRUE(broker.start()) << broker.last_error();
  auto options = v5(local_options(broker.port(), "v5-gw"));
  options.birth = Publication{"v5/status", "online", Qos::at_least_once, true};
  options.will = Publication{"v5/status", "offline", Qos::at_least_once, true};
  auto gateway = make_session(options);
  Recorder gw;
  ASSERT_FALSE(gateway.subscribe("v5/data/#", Qos::exactly_once));
  connect(gateway, gw);
  ASSERT_FALSE(gateway.publish("v5/data/0", "a", Qos::at_most_once));
  ASSERT_FALSE(gateway.publish("v5/data/1", "b", Qos::at_least_once));
  ASSERT_FALSE(gateway.publish("v5/data/2", "c", Qos::exactly_once));
  ASSERT_TRUE(run_until([&] { return gw.messages.size() >= 3 && gateway.in_flight() == 0; }));
  EXPECT_EQ(gw.last("v5/data/2")->payload, "c");
  EXPECT_EQ(gw.last("v5/data/2")->qos, Qos::exactly_once);
  EXPECT_EQ(gw.last("v5/data/1")->qos, Qos::at_least_once);

  auto late = make_session(v5(local_options(broker.port(), "v5-late")));
  Recorder late_rec;
  ASSERT_FALSE(late.subscribe("v5/status", Qos::at_least_once));
  connect(late, late_rec);
  ASSERT_TRUE(run_until([&] { return late_rec.last("v5/status") != nullptr; }));
  EXPECT_EQ(late_rec.last("v5/status")->payload, "online");
  EXPECT_TRUE(late_rec.last("v5/status")->retain);

  close(late);
  close(gateway, 2s, Publication{"v5/status", "offline", Qos::at_least_once, true});
}

TEST_F(Mqtt5, RefusedConnectCarriesTheBrokersReasonCode) {
  fg::test::MosquittoBroker broker({"allow_anonymous false"});
  ASSERT_TRUE(broker.start()) << broker.last_error();
  auto session = make_session(v5(local_options(broker.port(), "v5-anonymous")));
  Recorder rec;
  rec.attach(session);
  ASSERT_FALSE(session.start());
  ASSERT_TRUE(run_until([&] { return rec.disconnected(); }));
  const auto& reason = rec.states.front().reason;
  EXPECT_EQ(reason.category(), reason_category()) << reason.message();
  EXPECT_EQ(reason, std::errc::permission_denied) << reason.message();
  close(session);
}

// mosquitto 2.0.11 closes a taken-over connection without sending its DISCONNECT, so a scripted
// "broker" plays the part: it accepts, answers CONNACK (success) and sends DISCONNECT with reason
// code 0x8E (session taken over), as an MQTT 5 broker does when another client takes the client id.
TEST_F(Mqtt5, DisconnectFromTheBrokerCarriesItsReasonCode) {
  // CONNACK: flags 0, reason 0, no properties. DISCONNECT: reason 0x8E, no properties.
  ScriptedBroker broker(loop, std::string("\x20\x03\x00\x00\x00\xe0\x02\x8e\x00", 9));
  auto session = make_session(v5(local_options(broker.port(), "twin")));
  Recorder rec;
  rec.attach(session);
  ASSERT_FALSE(session.start());
  ASSERT_TRUE(run_until([&] { return rec.disconnected(); }));
  EXPECT_EQ(rec.states.back().reason, ReasonCode::session_taken_over) << rec.states.back().reason.message();
  close(session);
}

}  // namespace
}  // namespace fg::mqtt::test
