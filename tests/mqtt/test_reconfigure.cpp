// Session::reconfigure: new options while running. A move to another broker loses and repeats nothing,
// the subscriptions and the birth message follow, the broker never publishes the will; options the broker
// does not see change nothing on the wire; a rotated password file reconnects; bad options change nothing.

#include <cstdlib>

#include "tests/mqtt/mqtt_test_support.hpp"

namespace fg::mqtt::test {
namespace {

using MqttReconfigure = MqttTest;

std::vector<std::string> numbers(int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i < to; ++i) {
    out.push_back(std::to_string(i));
  }
  return out;
}

TEST_F(MqttReconfigure, MovesToAnotherBrokerWithoutLosingOrRepeatingAMessage) {
  fg::test::MosquittoBroker a;
  fg::test::MosquittoBroker b;
  ASSERT_TRUE(a.start()) << a.last_error();
  ASSERT_TRUE(b.start()) << b.last_error();
  // A watcher on each broker.
  auto watch_a = make_session(local_options(a.port(), "watch-a"));
  auto watch_b = make_session(local_options(b.port(), "watch-b"));
  Recorder seen_a, seen_b;
  ASSERT_FALSE(watch_a.subscribe("m/#", Qos::at_least_once));
  ASSERT_FALSE(watch_b.subscribe("m/#", Qos::at_least_once));
  connect(watch_a, seen_a);
  connect(watch_b, seen_b);

  auto options = local_options(a.port(), "mover");
  options.will = Publication{"m/status", "offline", Qos::at_least_once, true};
  options.birth = Publication{"m/status", "online", Qos::at_least_once, true};
  auto session = make_session(options);
  Recorder rec;
  ASSERT_FALSE(session.subscribe("m/cmd", Qos::at_least_once));
  connect(session, rec);
  ASSERT_TRUE(run_until([&] { return !seen_a.payloads("m/status").empty(); }));

  // Messages in flight to A when the new options come: they are acknowledged by A before the move, and
  // what is published after the call waits for B.
  for (const auto& n : numbers(0, 300)) {
    ASSERT_FALSE(session.publish("m/data", n, Qos::at_least_once));
  }
  options.port = b.port();
  auto reconnects = session.reconfigure(options);
  ASSERT_TRUE(reconnects) << reconnects.error().message();
  EXPECT_TRUE(*reconnects);
  for (const auto& n : numbers(300, 600)) {
    ASSERT_FALSE(session.publish("m/data", n, Qos::at_least_once));
  }
  ASSERT_TRUE(run_until([&] { return seen_b.payloads("m/data").size() >= 300; }, 10s)) << b.log();
  ASSERT_TRUE(run_until([&] { return session.in_flight() == 0; }));
  // A's PUBACK to the session says A has taken a message, not that A has delivered it to its watcher:
  // that delivery is independent and may come last.
  ASSERT_TRUE(run_until([&] { return seen_a.payloads("m/data").size() >= 300; }, 10s)) << a.log();

  EXPECT_EQ(seen_a.payloads("m/data"), numbers(0, 300));
  EXPECT_EQ(seen_b.payloads("m/data"), numbers(300, 600));
  // The birth message on B; on A no will, since the session said DISCONNECT.
  ASSERT_TRUE(run_until([&] { return !seen_b.payloads("m/status").empty(); }));
  EXPECT_EQ(seen_b.payloads("m/status"), std::vector<std::string>{"online"});
  EXPECT_EQ(seen_a.payloads("m/status"), std::vector<std::string>{"online"});
  // The subscription followed: a command published on B reaches the session.
  ASSERT_FALSE(watch_b.publish("m/cmd", "go", Qos::at_least_once));
  ASSERT_TRUE(run_until([&] { return !rec.payloads("m/cmd").empty(); }));
  // Connected twice and never reported disconnected; nothing dropped.
  EXPECT_EQ(rec.count(State::connected), 2);
  EXPECT_EQ(rec.count(State::disconnected), 0);
  EXPECT_EQ(session.counters().dropped, 0u);
  EXPECT_EQ(session.counters().acknowledged, 600u + 2u);  // and the two birth messages

  close(session);
  close(watch_a);
  close(watch_b);
}

TEST_F(MqttReconfigure, SettingsTheBrokerDoesNotSeeChangeNothingOnTheWire) {
  fg::test::MosquittoBroker broker;
  ASSERT_TRUE(broker.start()) << broker.last_error();
  auto options = local_options(broker.port(), "steady");
  auto session = make_session(options);
  Recorder rec;
  connect(session, rec);
  auto same = session.reconfigure(options);
  ASSERT_TRUE(same);
  EXPECT_FALSE(*same);
  options.reconnect.max = 2s;
  options.birth = Publication{"s/status", "up", Qos::at_least_once, true};
  auto timings = session.reconfigure(options);
  ASSERT_TRUE(timings);
  EXPECT_FALSE(*timings);
  EXPECT_EQ(session.state(), State::connected);
  EXPECT_EQ(session.counters().connects, 1u);
  close(session);
}

TEST_F(MqttReconfigure, NewClientIdTakesANewInstanceAndKeepsTheOutboxInOrder) {
  fg::test::MosquittoBroker broker;
  ASSERT_TRUE(broker.start()) << broker.last_error();
  // A watcher of its own: messages the broker still had to deliver to the session's old client id
  // (clean session) would go with it, and that is the broker's doing, not the outbox's.
  auto watcher = make_session(local_options(broker.port(), "watcher"));
  Recorder rec;
  ASSERT_FALSE(watcher.subscribe("c/#", Qos::at_least_once));
  connect(watcher, rec);
  auto options = local_options(broker.port(), "first-id");
  auto session = make_session(options);
  Recorder own;
  connect(session, own);
  for (const auto& n : numbers(0, 100)) {
    ASSERT_FALSE(session.publish("c/n", n, Qos::at_least_once));
  }
  options.client_id = "second-id";
  options.keepalive = 20s;
  ASSERT_TRUE(session.reconfigure(options));
  for (const auto& n : numbers(100, 200)) {
    ASSERT_FALSE(session.publish("c/n", n, Qos::at_least_once));
  }
  ASSERT_TRUE(run_until([&] { return rec.payloads("c/n").size() >= 200; }, 10s)) << broker.log();
  EXPECT_EQ(rec.payloads("c/n"), numbers(0, 200));
  EXPECT_EQ(session.counters().dropped, 0u);
  EXPECT_NE(broker.log().find("as second-id"), std::string::npos) << broker.log();
  close(session);
  close(watcher);
}

// The backoff does not delay the new options: a session waiting for a dead broker moves at once.
TEST_F(MqttReconfigure, WhileDisconnectedTheNextAttemptUsesTheNewOptionsAtOnce) {
  fg::test::MosquittoBroker dead;  // never started
  fg::test::MosquittoBroker live;
  ASSERT_TRUE(live.start()) << live.last_error();
  auto options = local_options(dead.port(), "waiting");
  options.reconnect.initial = 30s;  // the next attempt would be long after the test's limit
  options.reconnect.max = 60s;
  auto session = make_session(options);
  Recorder rec;
  rec.attach(session);
  ASSERT_FALSE(session.subscribe("w/#", Qos::at_least_once));
  ASSERT_FALSE(session.start());
  // Refused at once on loopback, inside the first attempt's timer: run_until checks only after the loop
  // next wakes, which nothing but its limit would do here.
  ASSERT_TRUE(run_until([&] { return rec.disconnected(); }, 200ms));
  ASSERT_FALSE(session.publish("w/n", "kept", Qos::at_least_once));
  options.port = live.port();
  ASSERT_TRUE(session.reconfigure(options));
  ASSERT_TRUE(run_until([&] { return rec.connected(); }, 5s));
  ASSERT_TRUE(run_until([&] { return !rec.payloads("w/n").empty(); }));
  EXPECT_EQ(rec.payloads("w/n"), std::vector<std::string>{"kept"});
  close(session);
}

TEST_F(MqttReconfigure, RotatedPasswordFileReconnectsWithTheNewPassword) {
  fg::test::MosquittoBroker broker;
  auto passwd = broker.dir() / "passwd";
  ASSERT_EQ(std::system(("mosquitto_passwd -c -b '" + passwd.string() + "' gw old >/dev/null 2>&1").c_str()), 0);
  broker.set_extra_config({"allow_anonymous false", "password_file " + passwd.string()});
  ASSERT_TRUE(broker.start()) << broker.last_error();
  auto options = local_options(broker.port(), "rotating");
  options.username = "gw";
  options.password_file = broker.dir() / "gw.pw";
  fg::test::write_file(options.password_file, "old\n");
  auto session = make_session(options);
  Recorder rec;
  connect(session, rec);
  // The site changes the password on the broker and in the file; the options themselves are the same.
  ASSERT_EQ(std::system(("mosquitto_passwd -b '" + passwd.string() + "' gw new >/dev/null 2>&1").c_str()), 0);
  ASSERT_TRUE(broker.restart()) << broker.last_error();
  ASSERT_TRUE(run_until([&] { return rec.disconnected(); }));
  fg::test::write_file(options.password_file, "new\n");
  auto reconnects = session.reconfigure(options);
  ASSERT_TRUE(reconnects) << reconnects.error().message();
  EXPECT_TRUE(*reconnects);
  ASSERT_TRUE(run_until([&] { return rec.connected(); }, 5s));
  close(session);
}

TEST_F(MqttReconfigure, BadOptionsChangeNothing) {
  fg::test::MosquittoBroker broker;
  ASSERT_TRUE(broker.start()) << broker.last_error();
  auto options = local_options(broker.port(), "stays");
  auto session = make_session(options);
  Recorder rec;
  connect(session, rec);
  auto bad = options;
  bad.host.clear();
  EXPECT_EQ(session.reconfigure(bad).error(), std::errc::invalid_argument);
  bad = options;
  bad.username = "u";
  bad.password_file = broker.dir() / "missing.pw";
  EXPECT_EQ(session.reconfigure(bad).error(), std::errc::no_such_file_or_directory);
  bad = options;
  bad.outbox_limit = options.outbox_limit + 1;
  EXPECT_EQ(session.reconfigure(bad).error(), std::errc::operation_not_supported);
  EXPECT_EQ(session.state(), State::connected);
  EXPECT_EQ(session.counters().connects, 1u);
  close(session);
  EXPECT_EQ(session.reconfigure(options).error(), std::errc::operation_canceled);
}

}  // namespace
}  // namespace fg::mqtt::test
