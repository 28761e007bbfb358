// End to end: Home Assistant discovery and the diagnostics (metrics, status --prometheus, status without
// root), with the real fieldgate, a real mosquitto and pty devices. A second subscriber plays Home
// Assistant: it reads the retained discovery documents under homeassistant/ and says "online" on
// homeassistant/status as HA does when it starts.

#include <string>

#include "tests/e2e/e2e_support.hpp"
#include "tests/support/exposition_text.hpp"

namespace fg::e2e {
namespace {

class E2eHomeAssistant : public E2eTest {
 protected:
  static constexpr const char* kHa = "homeassistant/device/t1/";

  std::string config_topic(const std::string& device) const { return kHa + device + "/config"; }

  // Starts the gateway, with ha_ (subscribed to homeassistant/# before the gateway starts) seeing every
  // discovery document, also those published before the gateway said online.
  void start(const std::string& config, const std::vector<std::string>& online) {
    if (!ha_) {
      ha_ = std::make_unique<test::MqttClient>();
      ASSERT_TRUE(ha_->connect("127.0.0.1", broker_.port()));
      ASSERT_TRUE(ha_->subscribe("homeassistant/#"));
    }
    ASSERT_NO_FATAL_FAILURE(start_gateway(config, online));
  }

  void TearDown() override {
    E2eTest::TearDown();
    ha_.reset();
  }

  // The first discovery document of `device` from message `from` on, as JSON; null if none arrived.
  Json document(const std::string& device, std::size_t from = 0) {
    std::optional<test::MqttMessage> m = ha_->wait_message(config_topic(device), std::nullopt, from);
    EXPECT_TRUE(m) << "no discovery document for " << device << diagnostics();
    return m ? Json::parse(m->payload, nullptr, false) : Json();
  }

  // Whether a client that connects now gets a retained message on `topic`, and its payload.
  std::optional<std::string> retained(const std::string& topic) {
    test::MqttClient fresh;
    EXPECT_TRUE(fresh.connect("127.0.0.1", broker_.port()));
    EXPECT_TRUE(fresh.subscribe(topic));
    // The broker sends retained messages right after the SUBACK: a marker published after the
    // subscription arrives after them.
    EXPECT_TRUE(fresh.subscribe("marker"));
    EXPECT_TRUE(fresh.publish("marker", "m"));
    EXPECT_TRUE(fresh.wait_message("marker"));
    for (const auto& m : fresh.on_topic(topic)) {
      if (m.retain) {
        return m.payload;
      }
    }
    return std::nullopt;
  }

  std::unique_ptr<test::MqttClient> ha_;

  std::string devices_config() {
    return serial_head("bench") + "[serial.channels.t]\nunit = \"°C\"\n[serial.channels.h]\nunit = \"%\"\n" +
           "[serial.channels.relay]\nkind = \"boolean\"\nset_format = \"R{value}\"\n" +
           "[serial.channels.relay.homeassistant]\nname = \"Pump\"\nicon = \"mdi:pump\"\n";
  }
};

TEST_F(E2eHomeAssistant, RetainedDocumentsWithTheirComponentsAndTheMetricsDevice) {
  add_device("bench");
  ASSERT_NO_FATAL_FAILURE(start(config_head("metrics_interval = \"1s\"\n") + devices_config(), {"bench"}));
  Json bench = document("bench");
  ASSERT_TRUE(bench.is_object()) << diagnostics();
  EXPECT_EQ(bench["dev"]["via_device"], "fieldgate/t1");
  EXPECT_EQ(bench["availability_mode"], "all");
  EXPECT_EQ(bench["availability"],
            Json::parse(R"([{"topic":"fg/t1/status"},{"topic":"fg/t1/bench/status"}])"));
  EXPECT_EQ(bench["cmps"]["t"]["p"], "sensor");
  EXPECT_EQ(bench["cmps"]["t"]["device_class"], "temperature");
  EXPECT_EQ(bench["cmps"]["t"]["state_topic"], "fg/t1/bench/t");
  EXPECT_EQ(bench["cmps"]["h"]["device_class"], "humidity");
  EXPECT_EQ(bench["cmps"]["relay"]["p"], "switch");
  EXPECT_EQ(bench["cmps"]["relay"]["name"], "Pump");
  EXPECT_EQ(bench["cmps"]["relay"]["command_topic"], "fg/t1/bench/relay/set");
  EXPECT_TRUE(retained(config_topic("bench"))) << "discovery documents must be retained";

  // The diagnostics device reads the retained metrics message.
  std::optional<std::string> gateway = retained("homeassistant/device/t1/config");
  ASSERT_TRUE(gateway) << diagnostics();
  EXPECT_EQ(Json::parse(*gateway)["state_topic"], "fg/t1/metrics");
  // The spool is on by default, so its depth is one of the diagnostics.
  EXPECT_EQ(Json::parse(*gateway)["cmps"]["spool_depth"]["value_template"], "{{ value_json.spool.depth }}")
      << *gateway;
  ASSERT_TRUE(device("bench").send("t=21.5 h=40\n"));
  ASSERT_EQ(wait_payloads(topic("bench/t"), 1).size(), 1u);
  ASSERT_TRUE(sub_->wait_for([&](const std::vector<test::MqttMessage>& all) {
    for (const auto& m : all) {
      Json j = m.topic == topic("metrics") ? Json::parse(m.payload, nullptr, false) : Json();
      if (j.is_object() && j.value("readings", 0) >= 2) {
        return true;
      }
    }
    return false;
  })) << "no metrics message counting the two readings"
      << diagnostics();
  std::optional<std::string> metrics = retained(topic("metrics"));
  ASSERT_TRUE(metrics);
  Json m = Json::parse(*metrics);
  for (const char* key : {"uptime_s", "readings_per_min", "dropped"}) {
    EXPECT_TRUE(m.contains(key)) << key << " in " << *metrics;
  }
  EXPECT_TRUE(m["mqtt"].contains("reconnects")) << *metrics;
  EXPECT_TRUE(m["spool"].contains("depth")) << *metrics;
}

TEST_F(E2eHomeAssistant, HaOnlineMakesThemRepublish) {
  add_device("bench");
  ASSERT_NO_FATAL_FAILURE(start(config_head() + devices_config(), {"bench"}));
  ASSERT_TRUE(document("bench").is_object());
  const std::size_t mark = ha_->size();
  ASSERT_TRUE(ha_->publish("homeassistant/status", "online"));
  EXPECT_TRUE(document("bench", mark).is_object()) << "not republished after HA said online";
  EXPECT_TRUE(ha_->wait_message("homeassistant/device/t1/config", std::nullopt, mark)) << diagnostics();
}

TEST_F(E2eHomeAssistant, UnpluggedDeviceGoesUnavailableWhileTheGatewayStaysOnline) {
  auto& bench = add_device("bench");
  add_device("other");
  ASSERT_NO_FATAL_FAILURE(start(config_head() + devices_config() + serial_head("other"), {"bench", "other"}));
  Json doc = document("bench");
  ASSERT_TRUE(doc.is_object());
  const std::size_t mark = sub_->size();
  bench.unplug();
  ASSERT_TRUE(sub_->wait_message(device_status_topic("bench"), "offline", mark)) << diagnostics();
  // With availability_mode "all", HA shows bench's entities unavailable and other's available.
  for (const auto& m : sub_->on_topic(status_topic(), mark)) {
    EXPECT_EQ(m.payload, "online") << "the gateway's status changed" << diagnostics();
  }
  for (const auto& m : sub_->on_topic(device_status_topic("other"), mark)) {
    EXPECT_EQ(m.payload, "online") << diagnostics();
  }
  EXPECT_EQ(retained(status_topic()), "online");
  EXPECT_EQ(retained(device_status_topic("bench")), "offline");
}

TEST_F(E2eHomeAssistant, RestartWithADeviceAndAChannelRemovedRemovesThem) {
  add_device("bench");
  add_device("a");
  add_device("b");
  ASSERT_NO_FATAL_FAILURE(
      start(config_head() + devices_config() + serial_head("a") + serial_head("b"), {"a", "b", "bench"}));
  ASSERT_TRUE(document("b").is_object());
  ASSERT_TRUE(document("bench")["cmps"].contains("h"));
  stop_gateway();

  // b left the config, and bench lost its channel h.
  const std::string smaller =
      config_head() + serial_head("bench") + "[serial.channels.t]\nunit = \"°C\"\n" + serial_head("a");
  const std::size_t mark = ha_->size();
  ASSERT_NO_FATAL_FAILURE(start(smaller, {"a", "bench"}));
  ASSERT_TRUE(ha_->wait_message(config_topic("b"), "", mark))
      << "no empty retained document for the removed device" << diagnostics();
  EXPECT_FALSE(retained(config_topic("b"))) << "HA would still find b after its restart";
  ASSERT_TRUE(ha_->wait_for([&](const std::vector<test::MqttMessage>& all) {
    for (std::size_t i = mark; i < all.size(); ++i) {
      const auto& m = all[i];
      Json j = m.topic == config_topic("bench") ? Json::parse(m.payload, nullptr, false) : Json();
      if (j.is_object() && j["cmps"].contains("h") && j["cmps"]["h"] == Json{{"p", "sensor"}}) {
        return true;
      }
    }
    return false;
  })) << "the removed channel h was not removed from bench"
      << diagnostics();
  EXPECT_TRUE(retained(config_topic("a")));
}

TEST_F(E2eHomeAssistant, DisabledPublishesNoDiscovery) {
  add_device("bench");
  ASSERT_NO_FATAL_FAILURE(
      start(config_head() + "[homeassistant]\nenabled = false\n\n" + devices_config(), {"bench"}));
  ASSERT_TRUE(device("bench").send("t=1\n"));
  ASSERT_EQ(wait_payloads(topic("bench/t"), 1).size(), 1u);
  EXPECT_FALSE(retained(config_topic("bench")));
}

TEST_F(E2eHomeAssistant, StatusPrometheusIsValidExpositionText) {
  add_device("bench");
  const std::string socket = (dir() / "control.sock").string();
  ASSERT_NO_FATAL_FAILURE(
      start(config_head() + "[control]\nsocket = \"" + socket + "\"\n\n" + devices_config(), {"bench"}));
  ASSERT_TRUE(device("bench").send("t=21.5\n"));
  ASSERT_EQ(wait_payloads(topic("bench/t"), 1).size(), 1u);
  const auto out = dir() / "prometheus.txt";
  auto status =
      run_to_end({FIELDGATE_BINARY, "status", "--prometheus", "--socket", socket}, out, dir() / "err.txt");
  ASSERT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << read_text(dir() / "err.txt");
  const std::string text = read_text(out);
  EXPECT_TRUE(test::IsExpositionText(text)) << text;
  EXPECT_NE(text.find("fieldgate_device_online{gateway=\"t1\",device=\"bench\"} 1\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("fieldgate_channel_readings_total{gateway=\"t1\",device=\"bench\",channel=\"t\"} 1\n"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace fg::e2e

namespace fg::e2e {
namespace {

// `fieldgate status` as a user who is not root but in the socket's group works; as one outside it, it
// fails with advice. The daemon runs as root here, so the socket's group is root's (gid 0); in the
// package it is fieldgate's, in a directory of mode 0750 like the one made here.
class E2eStatusAccess : public E2eTest {};

TEST_F(E2eStatusAccess, StatusWorksForAMemberOfTheSocketsGroupWithoutRoot) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root to run the client as another user";
  }
  std::filesystem::permissions(dir(), std::filesystem::perms(0755));
  const auto run = dir() / "run";
  std::filesystem::create_directory(run);
  std::filesystem::permissions(run, std::filesystem::perms(0750));
  const std::string socket = (run / "control.sock").string();
  ASSERT_NO_FATAL_FAILURE(start_gateway(config_head() + "[control]\nsocket = \"" + socket + "\"\n", {}));
  // nobody (65534), with and without the group 0.
  auto status_as = [&](const std::string& groups, const std::string& name) {
    return run_to_end({"setpriv", "--reuid=65534", "--regid=65534", "--groups=" + groups, FIELDGATE_BINARY,
                       "status", "--socket", socket},
                      dir() / (name + ".out"), dir() / (name + ".err"));
  };
  auto member = status_as("0", "member");
  ASSERT_TRUE(member && WIFEXITED(*member) && WEXITSTATUS(*member) == 0) << read_text(dir() / "member.err");
  EXPECT_NE(read_text(dir() / "member.out").find("gateway t1"), std::string::npos)
      << read_text(dir() / "member.out");
  auto stranger = status_as("65534", "stranger");
  ASSERT_TRUE(stranger && WIFEXITED(*stranger) && WEXITSTATUS(*stranger) == 1);
  EXPECT_NE(read_text(dir() / "stranger.err").find("Permission denied"), std::string::npos)
      << read_text(dir() / "stranger.err");
  EXPECT_NE(read_text(dir() / "stranger.err").find("adduser"), std::string::npos)
      << read_text(dir() / "stranger.err");
}

}  // namespace
}  // namespace fg::e2e
