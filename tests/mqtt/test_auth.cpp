// User name and password: the password comes from a file; a wrong one is a clear, retried error.

#include <cstdlib>

#include "tests/mqtt/mqtt_test_support.hpp"

namespace fg::mqtt::test {
namespace {

class MqttAuth : public MqttTest {
 protected:
  // A broker that only admits "gateway" with password "s3cret" (mosquitto_passwd hashes it).
  bool start_broker() {
    auto passwd = broker.dir() / "passwd";
    std::string command = "mosquitto_passwd -c -b '" + passwd.string() + "' gateway s3cret >/dev/null 2>&1";
    if (std::system(command.c_str()) != 0) {
      ADD_FAILURE() << "mosquitto_passwd failed";
      return false;
    }
    broker.set_extra_config({"allow_anonymous false", "password_file " + passwd.string()});
    return broker.start();
  }

  Options options_with_password(const std::string& client_id, const std::string& password_line) {
    auto options = local_options(broker.port(), client_id);
    options.username = "gateway";
    options.password_file = broker.dir() / (client_id + ".pw");
    fg::test::write_file(options.password_file, password_line);
    return options;
  }

  fg::test::MosquittoBroker broker;
};

TEST_F(MqttAuth, UserNameAndPasswordFromAFileAreAccepted) {
  ASSERT_TRUE(start_broker()) << broker.last_error();
  auto session = make_session(options_with_password("good", "s3cret\n"));
  Recorder rec;
  ASSERT_FALSE(session.subscribe("auth/echo", Qos::at_least_once));
  connect(session, rec);
  ASSERT_FALSE(session.publish("auth/echo", "in", Qos::at_least_once));
  ASSERT_TRUE(run_until([&] { return !rec.payloads("auth/echo").empty(); }));
  close(session);
}

TEST_F(MqttAuth, WrongPasswordIsAClearErrorAndKeepsRetryingWithBackoff) {
  ASSERT_TRUE(start_broker()) << broker.last_error();
  auto session = make_session(options_with_password("bad", "wrong\n"));
  Recorder rec;
  rec.attach(session);
  ASSERT_FALSE(session.start());
  ASSERT_TRUE(run_until([&] { return rec.count(State::disconnected) >= 3; }));
  EXPECT_EQ(rec.count(State::connected), 0);
  for (const auto& change : rec.states) {
    EXPECT_EQ(change.reason, std::errc::permission_denied) << change.reason.message();
    EXPECT_EQ(change.reason.category(), reason_category()) << "the broker's own reason code";
  }
  EXPECT_GT(rec.states[2].retry_in, rec.states[0].retry_in) << "delays grow";
  EXPECT_GE(session.counters().connect_failures, 3u);
  close(session);
}

TEST_F(MqttAuth, NoCredentialsAreRefusedWhenAnonymousIsNotAllowed) {
  ASSERT_TRUE(start_broker()) << broker.last_error();
  auto session = make_session(local_options(broker.port(), "anonymous"));
  Recorder rec;
  rec.attach(session);
  ASSERT_FALSE(session.start());
  ASSERT_TRUE(run_until([&] { return rec.disconnected(); }));
  EXPECT_EQ(rec.states.front().reason, std::errc::permission_denied) << rec.states.front().reason.message();
  close(session);
}

}  // namespace
}  // namespace fg::mqtt::test
