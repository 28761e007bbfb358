// Home Assistant discovery documents (gateway/homeassistant/documents.hpp) and Discovery's bookkeeping:
// what it publishes on update, connect, HA's "online" and its own retained documents read back. The
// devices are real SerialDevices and GpioDevices built by the gateway's factory from a config (their ports
// and lines absent: this host has no GPIO chip), looked up as the gateway does (homeassistant_options).

#include "gateway/homeassistant/discovery.hpp"

#include <gtest/gtest.h>

#include "devices/gpio/gpio_device.hpp"
#include "gateway/config/config.hpp"
#include "gateway/devices_factory.hpp"
#include "tests/gateway/gpio_homeassistant_config.hpp"
#include "gateway/homeassistant/device_class.hpp"
#include "loop/loop.hpp"

namespace fg::gateway::homeassistant {
namespace {

using Json = nlohmann::json;
using devices::ChannelInfo;

const Identity kId{"homeassistant", "fg", "gw1", "1.2.3"};

ChannelInfo number(std::string name, std::string unit, bool counter = false) {
  ChannelInfo c;
  c.name = std::move(name);
  c.unit = std::move(unit);
  c.counter = counter;
  return c;
}

TEST(HaDeviceClass, FromTheUnitAndForPercentagesTheName) {
  EXPECT_EQ(sensor_device_class("°C", "t"), "temperature");
  EXPECT_EQ(sensor_device_class("°F", "x"), "temperature");
  EXPECT_EQ(sensor_device_class("hPa", "p"), "pressure");
  EXPECT_EQ(sensor_device_class("V", "v"), "voltage");
  EXPECT_EQ(sensor_device_class("A", "i"), "current");
  EXPECT_EQ(sensor_device_class("W", "p"), "power");
  EXPECT_EQ(sensor_device_class("kWh", "e"), "energy");
  EXPECT_EQ(sensor_device_class("lx", "light"), "illuminance");
  EXPECT_EQ(sensor_device_class("%", "h"), "humidity");
  EXPECT_EQ(sensor_device_class("%", "Humidity"), "humidity");
  EXPECT_EQ(sensor_device_class("%", "battery"), "battery");
  EXPECT_EQ(sensor_device_class("%", "duty"), "") << "a percentage of what? HA would guess wrong";
  EXPECT_EQ(sensor_device_class("ppm", "co2"), "carbon_dioxide");
  EXPECT_EQ(sensor_device_class("ppm", "voc"), "");
  EXPECT_EQ(sensor_device_class("furlongs", "x"), "");
  EXPECT_EQ(sensor_device_class("", "t"), "");
}

TEST(HaDocuments, NumberIsASensorWithUnitClassAndMeasurement) {
  Json c = channel_component(kId, "bench", number("t", "°C"), {});
  EXPECT_EQ(c["p"], "sensor");
  EXPECT_EQ(c["device_class"], "temperature");
  EXPECT_EQ(c["unit_of_measurement"], "°C");
  EXPECT_EQ(c["state_class"], "measurement");
  EXPECT_EQ(c["state_topic"], "fg/gw1/bench/t");
  EXPECT_EQ(c["value_template"], "{{ value_json.value }}");
  EXPECT_EQ(c["unique_id"], "fieldgate/gw1/bench/t");
  EXPECT_FALSE(c.contains("command_topic"));
}

TEST(HaDocuments, EnergyIsATotalAndACounterTotalIncreasing) {
  EXPECT_EQ(channel_component(kId, "meter", number("e", "kWh"), {})["state_class"], "total");
  EXPECT_EQ(channel_component(kId, "meter", number("e", "kWh", true), {})["state_class"], "total_increasing");
  EXPECT_EQ(channel_component(kId, "meter", number("pulses", "", true), {})["state_class"],
            "total_increasing");
}

TEST(HaDocuments, BooleansBinarySensorsOrSwitchesTextSensorsPulseButtons) {
  ChannelInfo door;
  door.name = "door";
  door.kind = ChannelInfo::Kind::boolean;
  Json c = channel_component(kId, "io", door, {});
  EXPECT_EQ(c["p"], "binary_sensor");
  EXPECT_EQ(c["value_template"], "{{ 'ON' if value_json.value else 'OFF' }}");

  ChannelInfo relay = door;
  relay.name = "relay";
  relay.settable = true;
  c = channel_component(kId, "io", relay, {});
  EXPECT_EQ(c["p"], "switch");
  EXPECT_EQ(c["command_topic"], "fg/gw1/io/relay/set");
  EXPECT_EQ(c["payload_on"], "on");
  EXPECT_EQ(c["payload_off"], "off");

  ChannelInfo duty = number("duty", "%");
  duty.settable = true;
  c = channel_component(kId, "io", duty, {});
  EXPECT_EQ(c["p"], "number");
  EXPECT_EQ(c["command_topic"], "fg/gw1/io/duty/set");
  EXPECT_EQ(c["min"], 0);
  EXPECT_EQ(c["max"], 100);

  ChannelInfo output = relay;  // a GPIO output: set on/off, and pulsed
  output.name = "state";
  output.pulse = true;
  Json doc = device_config(kId, "valve", "gpio", {output}, {});
  EXPECT_EQ(doc["cmps"]["state"]["p"], "switch");
  EXPECT_EQ(doc["cmps"]["state_pulse"]["p"], "button");
  EXPECT_EQ(doc["cmps"]["state_pulse"]["command_topic"], "fg/gw1/valve/state/pulse");
  EXPECT_EQ(doc["cmps"]["state_pulse"]["unique_id"], "fieldgate/gw1/valve/state/pulse");

  ChannelInfo bell;
  bell.name = "bell";
  bell.kind = ChannelInfo::Kind::boolean;
  bell.pulse = true;
  c = channel_component(kId, "io", bell, {});
  EXPECT_EQ(c["p"], "button");
  EXPECT_EQ(c["command_topic"], "fg/gw1/io/bell/pulse");
  EXPECT_FALSE(c.contains("state_topic"));

  ChannelInfo mode;
  mode.name = "mode";
  mode.kind = ChannelInfo::Kind::text;
  c = channel_component(kId, "io", mode, {});
  EXPECT_EQ(c["p"], "sensor");
  EXPECT_FALSE(c.contains("state_class")) << "text has no statistics";
}

TEST(HaDocuments, SerialChannelsAreControlsOnlyWithASetFormatInTheConfig) {
  ChannelInfo t = number("t", "°C");
  t.settable = true;  // every serial channel takes /set by default
  DeviceOptions serial;
  serial.settable_is_control = false;
  EXPECT_EQ(channel_component(kId, "bench", t, serial)["p"], "sensor");
  serial.channels["t"].control = true;
  EXPECT_EQ(channel_component(kId, "bench", t, serial)["p"], "number");
}

TEST(HaDocuments, OverridesAndRawPayloads) {
  DeviceOptions options;
  options.raw_payload = true;
  ChannelOptions& o = options.channels["v"];
  o.name = "Supply";
  o.device_class = "";
  o.icon = "mdi:flash";
  o.enabled_by_default = false;
  Json c = channel_component(kId, "psu", number("v", "V"), options);
  EXPECT_EQ(c["name"], "Supply");
  EXPECT_FALSE(c.contains("device_class")) << "\"\" means none";
  EXPECT_EQ(c["icon"], "mdi:flash");
  EXPECT_EQ(c["enabled_by_default"], false);
  EXPECT_EQ(c["value_template"], "{{ value }}");
  EXPECT_EQ(c["unique_id"], "fieldgate/gw1/psu/v") << "a new name keeps the entity";
}

TEST(HaDocuments, UniqueIdsDoNotDependOnThePrefixAndDoNotCollide) {
  Identity other = kId;
  other.mqtt_prefix = "site/b";
  Json a = channel_component(kId, "bench", number("t", "°C"), {});
  Json b = channel_component(other, "bench", number("t", "°C"), {});
  EXPECT_EQ(a["unique_id"], b["unique_id"]);
  EXPECT_NE(a["state_topic"], b["state_topic"]);
  // Gateway "a" device "b_c" and gateway "a_b" device "c": ids and topics stay apart.
  EXPECT_NE(unique_id("a", "b_c", "t"), unique_id("a_b", "c", "t"));
  EXPECT_NE(device_config_topic({"homeassistant", "fg", "a", ""}, "b_c"),
            device_config_topic({"homeassistant", "fg", "a_b", ""}, "c"));
}

TEST(HaDocuments, DeviceDocumentHasDeviceOriginAvailabilityAndComponents) {
  Json d = device_config(kId, "bench", "serial",
                         {number("t", "°C"), number("bme.t", "°C"), number("bme:t", "°C")}, {});
  EXPECT_EQ(device_config_topic(kId, "bench"), "homeassistant/device/gw1/bench/config");
  EXPECT_EQ(d["dev"]["ids"], Json::array({"fieldgate/gw1/bench"}));
  EXPECT_EQ(d["dev"]["name"], "bench");
  EXPECT_EQ(d["dev"]["mf"], "fieldgate");
  EXPECT_EQ(d["dev"]["sw"], "1.2.3");
  EXPECT_EQ(d["dev"]["via_device"], "fieldgate/gw1");
  EXPECT_EQ(d["o"]["name"], "fieldgate");
  EXPECT_EQ(d["o"]["sw"], "1.2.3");
  EXPECT_TRUE(d["o"].contains("url"));
  EXPECT_EQ(d["availability_mode"], "all");
  EXPECT_EQ(d["availability"], Json::parse(R"([{"topic":"fg/gw1/status"},{"topic":"fg/gw1/bench/status"}])"));
  ASSERT_EQ(d["cmps"].size(), 3u);
  EXPECT_TRUE(d["cmps"].contains("t"));
  EXPECT_TRUE(d["cmps"].contains("bme_t"));
  EXPECT_TRUE(d["cmps"].contains("bme_t_2")) << d["cmps"].dump();
  EXPECT_EQ(d["cmps"]["bme_t_2"]["unique_id"], "fieldgate/gw1/bench/bme:t");
}

// A [[gpio]] entry's [gpio.homeassistant.ENTITY] tables, from the config to the device's document.
TEST(HaDocuments, GpioOverridesFromTheConfigReachTheirEntities) {
  auto config = parse_config(gateway::test_support::kGpioHomeAssistantConfig, "test.toml");
  ASSERT_TRUE(config) << config.error().front().format();
  const auto doc = [&](std::string_view device, devices::gpio::Mode mode) {
    return device_config(kId, device, "gpio", devices::gpio::mode_channels(mode),
                         gateway::homeassistant_options(*config, device));
  };
  using devices::gpio::Mode;
  Json door = doc("door", Mode::state)["cmps"];
  EXPECT_EQ(door["state"]["p"], "binary_sensor");
  EXPECT_EQ(door["state"]["name"], "Front door");
  EXPECT_EQ(door["state"]["device_class"], "door");
  EXPECT_EQ(door["state"]["unique_id"], "fieldgate/gw1/door/state") << "a new name keeps the entity";

  Json relay = doc("relay", Mode::output)["cmps"];
  EXPECT_EQ(relay["state"]["p"], "switch");
  EXPECT_EQ(relay["state"]["name"], "Pump");
  EXPECT_EQ(relay["state"]["device_class"], "outlet");
  EXPECT_FALSE(relay["state"].contains("enabled_by_default")) << "the button's override is the button's";
  EXPECT_EQ(relay["state_pulse"]["p"], "button");
  EXPECT_EQ(relay["state_pulse"]["name"], "Pump pulse") << "named after the switch";
  EXPECT_EQ(relay["state_pulse"]["device_class"], "identify");
  EXPECT_EQ(relay["state_pulse"]["enabled_by_default"], false);

  Json meter = doc("meter", Mode::counter)["cmps"];
  EXPECT_EQ(meter["count"]["name"], "Water");
  EXPECT_EQ(meter["count"]["state_class"], "total_increasing");
  EXPECT_EQ(meter["count"]["value_template"], "{{ value }}") << "payload = \"raw\" still applies";
  EXPECT_EQ(meter["rate"]["name"], "rate");
  EXPECT_EQ(meter["rate"]["enabled_by_default"], false);

  Json fan = doc("fan", Mode::pwm)["cmps"];
  EXPECT_EQ(fan["duty"]["p"], "number");
  EXPECT_EQ(fan["duty"]["icon"], "mdi:fan");
  EXPECT_FALSE(fan["duty"].contains("enabled_by_default"));
  EXPECT_EQ(fan["frequency"]["p"], "number");
  EXPECT_EQ(fan["frequency"]["enabled_by_default"], false);
}

TEST(HaDocuments, GatewayDiagnosticsDevice) {
  Json g = gateway_config(kId, {.replication = true});
  EXPECT_EQ(gateway_config_topic(kId), "homeassistant/device/gw1/config");
  EXPECT_EQ(g["state_topic"], "fg/gw1/metrics");
  EXPECT_EQ(g["dev"]["ids"], Json::array({"fieldgate/gw1"}));
  for (const char* key : {"uptime", "readings_per_min", "dropped", "broker_reconnects", "peers_up"}) {
    ASSERT_TRUE(g["cmps"].contains(key)) << key;
    EXPECT_EQ(g["cmps"][key]["entity_category"], "diagnostic") << key;
    EXPECT_EQ(g["cmps"][key]["p"], "sensor") << key;
  }
  EXPECT_FALSE(gateway_config(kId, {})["cmps"].contains("peers_up")) << "no replication, no peers";
}

// Real devices from a config, and a record of what Discovery publishes.
class HaDiscovery : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(
        build("[[serial]]\nname = \"a\"\npath = \"/nonexistent/a\"\n"
              "[[serial]]\nname = \"b\"\npath = \"/nonexistent/b\"\n"
              "[serial.channels.t]\nunit = \"°C\"\n"));
  }

  void TearDown() override {
    devices_.clear();
    loop_.run();
    EXPECT_FALSE(loop_.close());
  }

  bool build(const std::string& toml) {
    auto config = parse_config(toml, "test.toml");
    if (!config) {
      ADD_FAILURE() << config.error().front().format();
      return false;
    }
    config_ = std::move(*config);
    devices_.clear();
    auto devices = build_devices(loop_, config_,
                                 [](const std::string&, PayloadForm) { return devices::Device::Sink{}; });
    if (!devices) {
      ADD_FAILURE() << devices.error();
      return false;
    }
    devices_ = std::move(*devices);
    return true;
  }

  std::vector<const devices::Device*> list() const {
    std::vector<const devices::Device*> out;
    for (const auto& d : devices_) {
      out.push_back(d.get());
    }
    return out;
  }

  Discovery make() {
    // As the gateway looks devices up: in the config of the moment, which build() replaces.
    return Discovery(
        kId, {}, [this](std::string_view device) { return gateway::homeassistant_options(config_, device); },
        [this](const std::string& topic, const std::string& payload) { sent_.emplace_back(topic, payload); });
  }

  std::vector<std::string> topics() const {
    std::vector<std::string> out;
    for (const auto& [topic, payload] : sent_) {
      out.push_back(topic);
    }
    return out;
  }

  loop::Loop loop_;
  Config config_;
  std::vector<std::unique_ptr<devices::Device>> devices_;
  std::vector<std::pair<std::string, std::string>> sent_;
};

TEST_F(HaDiscovery, PublishesOnConnectEverythingAgainOnReconnectAndOnHaOnline) {
  Discovery d = make();
  d.update(list());
  EXPECT_TRUE(sent_.empty()) << "nothing before the connect: on_connected sends it all";
  d.on_connected();
  const std::vector<std::string> all{"homeassistant/device/gw1/config", "homeassistant/device/gw1/a/config",
                                     "homeassistant/device/gw1/b/config"};
  EXPECT_EQ(topics(), all);
  d.update(list());
  EXPECT_EQ(sent_.size(), 3u) << "update is idempotent";
  d.on_disconnected();
  d.on_connected();
  EXPECT_EQ(sent_.size(), 6u);
  EXPECT_TRUE(d.on_message("homeassistant/status", "offline", false));
  EXPECT_EQ(sent_.size(), 6u);
  EXPECT_TRUE(d.on_message("homeassistant/status", "online", false));
  EXPECT_EQ(sent_.size(), 9u);
  EXPECT_FALSE(d.on_message("fg/gw1/a/t", "1", false)) << "not discovery's";
}

TEST_F(HaDiscovery, UpdateRemovesDevicesAndChannelsThatLeft) {
  Discovery d = make();
  d.update(list());
  d.on_connected();
  sent_.clear();
  ASSERT_TRUE(build("[[serial]]\nname = \"b\"\npath = \"/nonexistent/b\"\n"));
  d.update(list());
  ASSERT_EQ(sent_.size(), 2u);
  EXPECT_EQ(sent_[0], (std::pair<std::string, std::string>{"homeassistant/device/gw1/a/config", ""}));
  EXPECT_EQ(sent_[1].first, "homeassistant/device/gw1/b/config");
  Json b = Json::parse(sent_[1].second);
  EXPECT_EQ(b["cmps"]["t"], Json::parse(R"({"p":"sensor"})")) << "channel t left b: HA removes its entity";
}

TEST_F(HaDiscovery, RemoveAllRemovesEveryDocument) {
  Discovery d = make();
  d.update(list());
  d.on_connected();
  sent_.clear();
  d.remove_all();
  const std::vector<std::pair<std::string, std::string>> removed{{"homeassistant/device/gw1/config", ""},
                                                                 {"homeassistant/device/gw1/a/config", ""},
                                                                 {"homeassistant/device/gw1/b/config", ""}};
  EXPECT_EQ(sent_, removed);
  d.on_connected();
  EXPECT_EQ(sent_.size(), 3u) << "nothing left to publish";
}

TEST_F(HaDiscovery, RetainedLeftoversOfAnEarlierRunAreRemoved) {
  Discovery d = make();
  d.update(list());
  d.on_connected();
  sent_.clear();
  // A device of an earlier config, and an earlier document of b with a channel b no longer has.
  EXPECT_TRUE(d.on_message("homeassistant/device/gw1/old/config", R"({"cmps":{}})", true));
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0], (std::pair<std::string, std::string>{"homeassistant/device/gw1/old/config", ""}));
  EXPECT_TRUE(d.on_message(
      "homeassistant/device/gw1/b/config",
      R"({"cmps":{"t":{"p":"sensor","name":"t"},"gone":{"p":"binary_sensor","name":"gone"}}})", true));
  ASSERT_EQ(sent_.size(), 2u);
  Json b = Json::parse(sent_[1].second);
  EXPECT_EQ(b["cmps"]["gone"], Json::parse(R"({"p":"binary_sensor"})"));
  EXPECT_EQ(b["cmps"]["t"]["name"], "t");
  // Live copies (not retained) and removals need nothing; so does a document already in order.
  EXPECT_TRUE(d.on_message("homeassistant/device/gw1/old/config", R"({"cmps":{}})", false));
  EXPECT_TRUE(d.on_message("homeassistant/device/gw1/old/config", "", true));
  EXPECT_TRUE(d.on_message("homeassistant/device/gw1/b/config", sent_[1].second, true));
  EXPECT_EQ(sent_.size(), 2u);
  // Another gateway's documents are not ours.
  EXPECT_FALSE(d.on_message("homeassistant/device/gw2/x/config", R"({"cmps":{}})", true));
  EXPECT_EQ(sent_.size(), 2u);
}

// A reload that changes only a GPIO device's overrides: its device stays, and its document alone is
// published again (the gateway's reload calls update() with the new config in place).
TEST_F(HaDiscovery, ChangedGpioOverridesRepublishThatDeviceAlone) {
  const std::string head = "[[serial]]\nname = \"a\"\npath = \"/nonexistent/a\"\n"
                           "[[gpio]]\nname = \"relay\"\nmode = \"output\"\nline = \"GPIO27\"\n";
  ASSERT_TRUE(build(head));
  Discovery d = make();
  d.update(list());
  d.on_connected();
  ASSERT_EQ(sent_.size(), 3u);
  EXPECT_EQ(Json::parse(sent_[2].second)["cmps"]["state"]["name"], "state");
  sent_.clear();
  ASSERT_TRUE(build(head + "[gpio.homeassistant.state]\nname = \"Pump\"\n"));
  d.update(list());
  ASSERT_EQ(sent_.size(), 1u) << "the serial device's document did not change";
  EXPECT_EQ(sent_[0].first, "homeassistant/device/gw1/relay/config");
  Json relay = Json::parse(sent_[0].second);
  EXPECT_EQ(relay["cmps"]["state"]["name"], "Pump");
  EXPECT_EQ(relay["cmps"]["state_pulse"]["name"], "Pump pulse");
  d.update(list());
  EXPECT_EQ(sent_.size(), 1u) << "and only once";
}

}  // namespace
}  // namespace fg::gateway::homeassistant
