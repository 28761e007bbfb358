#pragma once
// The readers of the config's sections, one file each: gateway.cpp, mqtt.cpp, serial.cpp (with
// serial_format.cpp), gpio.cpp, replication.cpp, control.cpp, homeassistant.cpp. Private to gateway/config/.
// Each reads every key of its table into out and reports each problem to the table's sink; none calls
// table.finish(): config.cpp does, so that unknown keys are reported in one place.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gateway/config/config.hpp"
#include "gateway/config/reader.hpp"

namespace fg::gateway::config_detail {

// [gateway]: the id (one topic level) and the log level.
void read_gateway(TableReader& table, GatewaySection& out);

// [mqtt] and [mqtt.tls]: the session's settings and the gateway's topic prefix, qos and retain.
void read_mqtt(TableReader& table, MqttSection& out);

// The key "prefix" of a table as the first level(s) of MQTT topics: not empty, no + or #, no leading or
// trailing /. Absent or wrong (an issue at it): nullopt.
std::optional<std::string> read_topic_prefix(TableReader& table);

// Every device section ([[serial]], [[gpio]]) is an array of tables under the root; names maps each
// device name taken so far to the entry that took it ("serial[0]"), across all kinds (devices.cpp).
const toml::array* root_array(TableReader& root, std::string_view key);  // nullptr: absent or not an array
const toml::table* array_table(TableReader& root, const toml::array& array, std::size_t i, const std::string& path);
// name: required, one topic level, not a reserved one.
void read_device_name(TableReader& table, std::string& out);
void unique_device_name(TableReader& table, const std::string& name, const std::string& path,
                        std::map<std::string, std::string>& names);

// Every [[serial]] of the root table. The framer, parser and channels are checked by creating them with
// devices/serial, whose ConfigError lands on the key that caused it.
void read_serial_array(TableReader& root, std::vector<SerialSection>& out, std::map<std::string, std::string>& names);

// Every [[gpio]] of the root table (gpio.cpp): each mode's keys, and one device per line.
void read_gpio_array(TableReader& root, std::vector<GpioSection>& out, std::map<std::string, std::string>& names);

// [replication]: endpoints are checked with quorum::parse_endpoint, the site's size and the uniqueness of
// its node numbers and addresses, and the key file is loaded with quorum::load_site_key (so `fieldgate
// check` finds a missing, malformed or world-readable key before the daemon does).
void read_replication(TableReader& table, ReplicationSection& out);

// [control]: the control socket's path.
void read_control(TableReader& table, ControlSection& out);

// [homeassistant]: discovery on or off, and HA's discovery prefix.
void read_homeassistant(TableReader& table, homeassistant::Settings& out);

// A channel's `homeassistant` table (name, device_class checked against HA's list for the platform the
// channel becomes, icon, enabled_by_default), and whether its set_format makes it a control.
void read_channel_homeassistant(TableReader& channel, const devices::serial::ChannelSettings& settings,
                                homeassistant::ChannelOptions& out);

// A [[gpio]] entry's `homeassistant` table: one table per entity of the mode (a channel's name, or
// "pulse" for an output's button) with the same keys, into out.channels and out.pulse_buttons.
void read_gpio_homeassistant(TableReader& device, devices::gpio::Mode mode, std::string_view mode_name,
                             homeassistant::DeviceOptions& out);

}  // namespace fg::gateway::config_detail
