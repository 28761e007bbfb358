// Two clients with one client id: the broker gives the connection to the newer one, the older reconnects
// and takes it back, and so on. A second gateway booted from a copy of an SD card does this (same host
// name, so the same [gateway] id and client id); from the third early loss in a row the disconnection
// says what is probably going on.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tests/mqtt/mqtt_test_support.hpp"

namespace fg::mqtt::test {
namespace {

bool hints_at_takeover(const StateChange& change) {
  return change.detail.find("is another client connected as \"twin\"") != std::string::npos;
}

// The losses of an established connection a recorder saw, in order (not the failed attempts: a connect
// that timed out on a slow machine says nothing about a takeover and does not count).
std::vector<StateChange> disconnections(const Recorder& rec) {
  std::vector<StateChange> out;
  for (std::size_t i = 1; i < rec.states.size(); ++i) {
    if (rec.states[i].state == State::disconnected && rec.states[i - 1].state == State::connected) {
      out.push_back(rec.states[i]);
    }
  }
  return out;
}

class MqttTakeover : public MqttTest {
 protected:
  // Starts a broker and two sessions with the client id "twin" on the options `adjust` leaves, and runs
  // until each session lost its connection `losses` times.
  void fight(const std::function<void(Options&)>& adjust, std::size_t losses) {
    broker_.emplace();
    ASSERT_TRUE(broker_->start()) << broker_->last_error();
    auto options = local_options(broker_->port(), "twin");
    adjust(options);
    first_.emplace(make_session(options));
    second_.emplace(make_session(options));
    first_rec_.attach(*first_);
    second_rec_.attach(*second_);
    ASSERT_FALSE(first_->start());
    ASSERT_FALSE(second_->start());
    ASSERT_TRUE(run_until(
        [&] {
          return disconnections(first_rec_).size() >= losses && disconnections(second_rec_).size() >= losses;
        },
        20s))
        << broker_->log();
  }
  // The sessions and the broker go before the loop's own check for open handles and descriptors.
  void TearDown() override {
    for (auto* session : {&first_, &second_}) {
      if (*session) {
        close(**session);
        session->reset();
      }
    }
    broker_.reset();
    MqttTest::TearDown();
  }

  std::optional<fg::test::MosquittoBroker> broker_;
  std::optional<Session> first_, second_;
  Recorder first_rec_, second_rec_;
};

TEST_F(MqttTakeover, FromTheThirdEarlyLossTheDisconnectionSaysAnotherClientHasTheId) {
  ASSERT_NO_FATAL_FAILURE(fight([](Options&) {}, 4));
  for (const Recorder* rec : {&first_rec_, &second_rec_}) {
    auto lost = disconnections(*rec);
    EXPECT_FALSE(hints_at_takeover(lost[0])) << lost[0].detail;
    EXPECT_FALSE(hints_at_takeover(lost[1])) << lost[1].detail;
    EXPECT_TRUE(hints_at_takeover(lost[2])) << lost[2].detail;
    EXPECT_TRUE(hints_at_takeover(lost[3])) << lost[3].detail;
  }
}

// Over MQTT 5 a broker may say why: DISCONNECT with "session taken over" (mosquitto from 2.0.12 on;
// Debian 12's 2.0.11 only closes the connection). Either way the hint comes.
TEST_F(MqttTakeover, OverMqtt5TheHintComesWhetherOrNotTheBrokerSaysSessionTakenOver) {
  ASSERT_NO_FATAL_FAILURE(fight([](Options& o) { o.protocol = Protocol::v5; }, 3));
  for (const Recorder* rec : {&first_rec_, &second_rec_}) {
    auto lost = disconnections(*rec);
    // A close reaches us as a reset when a packet of ours was still unread at the broker.
    EXPECT_TRUE(lost[0].reason == make_error_code(ReasonCode::session_taken_over) ||
                lost[0].reason == make_error_code(MosquittoErrc::conn_lost) ||
                lost[0].reason == std::errc::connection_reset || lost[0].reason == std::errc::broken_pipe)
        << lost[0].reason.message();
    EXPECT_FALSE(hints_at_takeover(lost[1])) << lost[1].detail;
    EXPECT_TRUE(hints_at_takeover(lost[2])) << lost[2].detail;
  }
}

// A connection that lasted reconnect.stable_after (here: any) starts the count again: losses that are
// each far apart are a broker's restarts, not a takeover.
TEST_F(MqttTakeover, LossesOfStableConnectionsAreNotCounted) {
  ASSERT_NO_FATAL_FAILURE(fight([](Options& o) { o.reconnect.stable_after = 0ms; }, 4));
  for (const Recorder* rec : {&first_rec_, &second_rec_}) {
    for (const auto& lost : disconnections(*rec)) {
      EXPECT_FALSE(hints_at_takeover(lost)) << lost.detail;
    }
  }
}

}  // namespace
}  // namespace fg::mqtt::test
