// Session basics against a real broker: connect, publish at every QoS, subscribe and receive, retained
// messages, the birth message, host name resolution, refused and unanswered connections, a broker that
// talks nonsense, and the error values of invalid input.

#include "tests/mqtt/mqtt_test_support.hpp"

namespace fg::mqtt::test {
namespace {

using MqttSession = MqttTest;

TEST_F(MqttSession, PublishesAtEveryQosToASubscriber) {
  fg::test::MosquittoBroker broker;
  ASSERT_TRUE(broker.start()) << broker.last_error();
  auto subscriber = make_session(local_options(broker.port(), "sub"));
  auto publisher = make_session(local_options(broker.port(), "pub"));
  Recorder sub, pub;
  ASSERT_FALSE(subscriber.subscribe("q/#", Qos::exactly_once));
  connect(subscriber, sub);
  connect(publisher, pub);
  // The subscription is made on connect; a retained marker proves it is active before the real test.
  ASSERT_FALSE(publisher.publish("q/ready", "1", Qos::at_least_once));
  ASSERT_TRUE(run_until([&] { return !sub.payloads("q/ready").empty(); }));

  ASSERT_FALSE(publisher.publish("q/0", "zero", Qos::at_most_once));
  ASSERT_FALSE(publisher.publish("q/1", "one", Qos::at_least_once));
  ASSERT_FALSE(publisher.publish("q/2", "two", Qos::exactly_once));
  const std::byte binary[] = {std::byte{0}, std::byte{0xff}, std::byte{0x10}};
  ASSERT_FALSE(publisher.publish("q/bin", std::span<const std::byte>(binary), Qos::at_least_once));
  ASSERT_TRUE(run_until([&] { return sub.messages.size() >= 5 && publisher.in_flight() == 0; }));

  ASSERT_NE(sub.last("q/0"), nullptr);
  EXPECT_EQ(sub.last("q/0")->payload, "zero");
  EXPECT_EQ(sub.last("q/0")->qos, Qos::at_most_once);
  EXPECT_EQ(sub.last("q/1")->payload, "one");
  EXPECT_EQ(sub.last("q/1")->qos, Qos::at_least_once);
  EXPECT_EQ(sub.last("q/2")->payload, "two");
  EXPECT_EQ(sub.last("q/2")->qos, Qos::exactly_once);
  EXPECT_EQ(sub.last("q/bin")->payload, std::string("\0\xff\x10", 3));
  EXPECT_FALSE(sub.last("q/1")->retain);
  EXPECT_EQ(publisher.counters().published, 5u);
  EXPECT_EQ(publisher.counters().acknowledged, 4u) << "QoS 1 and 2 messages are acknowledged";
  EXPECT_EQ(subscriber.counters().received, 5u);

  close(publisher);
  close(subscriber);
}

TEST_F(MqttSession, RetainedMessageAndBirthReachALateSubscriberWithRetainSet) {
  fg::test::MosquittoBroker broker;
  ASSERT_TRUE(broker.start()) << broker.last_error();
  auto options = local_options(broker.port(), "gw");
  options.birth = Publication{"site/gw/status", "online", Qos::at_least_once, true};
  auto gateway = make_session(options);
  Recorder gw;
  connect(gateway, gw);
  ASSERT_FALSE(gateway.publish("site/gw/config", "{\"v\":1}", Qos::at_least_once, true));
  ASSERT_TRUE(run_until([&] { return gateway.in_flight() == 0; }));

  auto late = make_session(local_options(broker.port(), "late"));
  Recorder rec;
  ASSERT_FALSE(late.subscribe("site/#", Qos::at_least_once));
  connect(late, rec);
  ASSERT_TRUE(run_until([&] { return rec.messages.size() >= 2; }));
  ASSERT_NE(rec.last("site/gw/status"), nullptr);
  EXPECT_EQ(rec.last("site/gw/status")->payload, "online");
  EXPECT_TRUE(rec.last("site/gw/status")->retain);
  ASSERT_NE(rec.last("site/gw/config"), nullptr);
  EXPECT_EQ(rec.last("site/gw/config")->payload, "{\"v\":1}");
  EXPECT_TRUE(rec.last("site/gw/config")->retain);

  close(late);
  close(gateway);
}

TEST_F(MqttSession, ResolvesLocalhostWithoutBlockingTheLoop) {
  fg::test::MosquittoBroker broker;
  ASSERT_TRUE(broker.start()) << broker.last_error();
  auto options = local_options(broker.port(), "by-name");
  options.host = "localhost";
  auto session = make_session(options);
  Recorder rec;
  ASSERT_FALSE(session.subscribe("echo", Qos::at_least_once));
  connect(session, rec);
  ASSERT_FALSE(session.publish("echo", "hello", Qos::at_least_once));
  ASSERT_TRUE(run_until([&] { return !rec.payloads("echo").empty(); }));
  EXPECT_EQ(rec.payloads("echo").front(), "hello");
  close(session);
}

TEST_F(MqttSession, UnknownHostIsReportedAndRetried) {
  auto options = local_options(1883, "nowhere");
  options.host = "no-such-host.invalid";
  auto session = make_session(options);
  Recorder rec;
  rec.attach(session);
  ASSERT_FALSE(session.start());
  ASSERT_TRUE(run_until([&] { return rec.count(State::disconnected) >= 2; }, 10s));
  EXPECT_EQ(rec.states.front().reason.category(), loop::uv_category()) << rec.states.front().reason.message();
  EXPECT_EQ(session.state(), State::disconnected);
  close(session);
}

TEST_F(MqttSession, RefusedConnectionIsReportedAndRetriedUntilTheBrokerComes) {
  fg::test::MosquittoBroker broker;  // not started yet: its port refuses connections
  auto session = make_session(local_options(broker.port(), "early"));
  Recorder rec;
  rec.attach(session);
  ASSERT_FALSE(session.start());
  ASSERT_TRUE(run_until([&] { return rec.count(State::disconnected) >= 3; }));
  EXPECT_EQ(rec.states.front().reason, std::errc::connection_refused) << rec.states.front().reason.message();
  EXPECT_GT(rec.states.front().retry_in, 0ms);
  EXPECT_GE(session.counters().connect_failures, 3u);
  ASSERT_TRUE(broker.start()) << broker.last_error();
  ASSERT_TRUE(run_until([&] { return rec.connected(); }));
  EXPECT_EQ(session.counters().connects, 1u);
  EXPECT_EQ(session.counters().reconnects, 0u);
  close(session);
}

TEST_F(MqttSession, SlowTcpConnectIsAwaitedWithoutSpinning) {
  fg::test::MosquittoBroker broker;
  ASSERT_TRUE(broker.start()) << broker.last_error();
  SlowProxy proxy(loop, broker.port(), 200ms);
  auto session = make_session(local_options(proxy.port(), "slow"));
  IterationCounter iterations(loop);
  Recorder rec;
  ASSERT_FALSE(session.subscribe("slow/echo", Qos::at_least_once));
  connect(session, rec);
  EXPECT_TRUE(proxy.relayed());
  EXPECT_LT(iterations.count(), 200u) << "a spinning poll would cost hundreds of thousands";
  ASSERT_FALSE(session.publish("slow/echo", "hi", Qos::at_least_once));
  ASSERT_TRUE(run_until([&] { return !rec.payloads("slow/echo").empty(); }));
  close(session);
}

// A broker that accepts the TCP connection and never answers the CONNECT: the attempt must end with
// a timeout, and be retried.
TEST_F(MqttSession, SilentBrokerEndsTheAttemptWithATimeout) {
  ScriptedBroker silent(loop, "");
  auto options = local_options(silent.port(), "silent");
  options.reconnect.connect_timeout = 200ms;
  auto session = make_session(options);
  Recorder rec;
  rec.attach(session);
  ASSERT_FALSE(session.start());
  ASSERT_TRUE(run_until([&] { return rec.count(State::disconnected) >= 2; }));
  EXPECT_EQ(rec.states.front().reason, std::errc::timed_out) << rec.states.front().reason.message();
  EXPECT_GE(silent.accepted(), 2u);
  close(session);
}

// A "broker" that answers every connection with bytes that are no MQTT packet: a CONNACK header whose
// length field runs over the four bytes MQTT allows, then noise.
TEST_F(MqttSession, GarbageFromTheBrokerIsAProtocolErrorAndTheSessionKeepsTrying) {
  ScriptedBroker confused(loop, std::string("\x20\xff\xff\xff\xff\x7f garbage"));
  auto session = make_session(local_options(confused.port(), "confused"));
  Recorder rec;
  rec.attach(session);
  ASSERT_FALSE(session.start());
  ASSERT_TRUE(run_until([&] { return rec.count(State::disconnected) >= 2; }))
      << (rec.states.empty() ? "no state change" : rec.states.front().reason.message());
  EXPECT_FALSE(rec.connected());
  EXPECT_EQ(rec.states.front().reason.category(), mosquitto_category())
      << rec.states.front().reason.message();
  close(session);
}

TEST_F(MqttSession, InvalidInputIsAnErrorValue) {
  auto options = local_options(1883, "x");
  options.keepalive = 2s;
  EXPECT_EQ(Session::create(loop, options).error(), std::errc::invalid_argument);
  options = local_options(1883, "");
  options.clean_session = false;
  EXPECT_EQ(Session::create(loop, options).error(), std::errc::invalid_argument) << "persistent needs an id";
  options = local_options(1883, "x");
  options.will = Publication{"bad/+/topic", "x", Qos::at_most_once, false};
  EXPECT_EQ(Session::create(loop, options).error(), std::errc::invalid_argument);
  options = local_options(1883, "x");
  options.tls.emplace();
  options.tls->ca_file = "/nonexistent/ca.crt";
  EXPECT_EQ(Session::create(loop, options).error(), std::errc::no_such_file_or_directory);
  options = local_options(1883, "x");
  options.username = "u";
  options.password_file = "/nonexistent/pw";
  EXPECT_EQ(Session::create(loop, options).error(), std::errc::no_such_file_or_directory);

  auto session = make_session(local_options(1883, "x"));
  EXPECT_EQ(session.publish("a/#", "x"), std::errc::invalid_argument);
  EXPECT_EQ(session.publish("", "x"), std::errc::invalid_argument);
  EXPECT_EQ(session.publish(std::string_view("a\0b", 3), "x"), std::errc::invalid_argument);
  EXPECT_EQ(session.publish("a", "x", static_cast<Qos>(3)), std::errc::invalid_argument);
  EXPECT_EQ(session.subscribe("a/#/b", Qos::at_most_once), std::errc::invalid_argument);
  EXPECT_EQ(session.unsubscribe("never/subscribed"), std::errc::invalid_argument);
  EXPECT_EQ(session.state(), State::idle);
  close(session);
  EXPECT_EQ(session.publish("a", "x"), std::errc::operation_canceled);
}

TEST_F(MqttSession, ShutdownBeforeStartAndDestroyWithoutShutdownCloseEverything) {
  {
    auto session = make_session(local_options(1883, "never-started"));
    close(session);
  }
  {
    fg::test::MosquittoBroker broker;
    ASSERT_TRUE(broker.start()) << broker.last_error();
    auto session = make_session(local_options(broker.port(), "dropped"));
    Recorder rec;
    connect(session, rec);
    // Destroyed while connected: no DISCONNECT, every handle closed; the fixture checks the loop
    // closes and no descriptor leaked.
  }
}

TEST_F(MqttSession, SessionDestroyedInsideItsOwnCallbackIsReapedSafely) {
  fg::test::MosquittoBroker broker;
  ASSERT_TRUE(broker.start()) << broker.last_error();
  auto session = std::make_unique<Session>(make_session(local_options(broker.port(), "self-destruct")));
  ASSERT_FALSE(session->subscribe("boom", Qos::at_least_once));
  bool destroyed = false;
  session->on_state([&](const StateChange& change) {
    if (change.state == State::connected) {
      session->publish("boom", "now", Qos::at_least_once);
    }
  });
  session->on_message([&](const Message&) {
    session.reset();  // inside libmosquitto's message callback
    destroyed = true;
  });
  ASSERT_FALSE(session->start());
  ASSERT_TRUE(run_until([&] { return destroyed; }));
  EXPECT_EQ(session, nullptr);
}

}  // namespace
}  // namespace fg::mqtt::test
