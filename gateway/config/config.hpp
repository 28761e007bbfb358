#pragma once
// The fieldgate configuration: one TOML file, read and checked as a whole. Every problem found is reported
// (not just the first), each naming the file, line, column and key; unknown keys are errors. An empty file
// is a valid config: no devices, the broker on localhost:1883. docs/configuration.md is the reference for
// every key; this header is the model those keys are mapped onto.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "devices/gpio/gpio_settings.hpp"
#include "devices/serial/serial_settings.hpp"
#include "gateway/homeassistant/options.hpp"
#include "gateway/log.hpp"
#include "mqtt/options.hpp"

namespace fg::gateway {

// One problem in a config file. line and column are 1-based; both are 0 when the problem is with the file
// as a whole (it cannot be read). key is the dotted path of the setting ("mqtt.port",
// "serial[0].channels.t.scale", array indexes 0-based), empty for a TOML syntax error or an unreadable file.
struct ConfigIssue {
  std::string file;
  std::uint32_t line = 0;
  std::uint32_t column = 0;
  std::string key;
  std::string message;

  // "FILE:LINE:COLUMN: KEY: MESSAGE"; without "KEY: " when key is empty, and without ":LINE:COLUMN" when
  // line is 0: "site.toml:12:8: serial[1].baud: expected an integer, got a string",
  // "site.toml:3:7: Error while parsing ...", "site.toml: cannot read the file: No such file or directory".
  std::string format() const;

  bool operator==(const ConfigIssue&) const = default;
};

// LogLevel comes from gateway/log.hpp: one enum for the config and the logger.

struct GatewaySection {
  // One MQTT topic level, [A-Za-z0-9_-]+. Defaults to the host name, sanitised (default_gateway_id()).
  std::string id;
  LogLevel log_level = LogLevel::info;
  // The gateway's durable state: spool/ (the MQTT spool, the seq checkpoint and boot epoch). The
  // service's StateDirectory.
  std::string state_dir = "/var/lib/fieldgate";
};

// [mqtt]: the session's own settings, and the gateway's: where it publishes, and how it publishes readings.
struct MqttSection {
  // Everything the MQTT session needs (mqtt/options.hpp), as the [mqtt] keys give it. The gateway adds the
  // will and the birth message (its status topic). One default differs from the module's: the outbox
  // holds 10,000 messages, minutes of readings for a typical site while the broker is away.
  mqtt::Options session = [] {
    mqtt::Options options;
    options.outbox_limit = 10000;
    return options;
  }();
  std::string prefix = "fieldgate";  // first topic level(s): no + or #, no leading or trailing /
  std::uint8_t qos = 1;              // for readings
  bool retain = false;               // for readings
  // How often the retained <prefix>/<id>/metrics document is published; 0: never (and no diagnostics
  // device in Home Assistant, which would have nothing to show).
  std::chrono::milliseconds metrics_interval{60000};
};

// The form of a published reading: a JSON object (value, unit, time, seq) or the bare value as text.
enum class PayloadForm : std::uint8_t { json, raw };

// One [[serial]] entry: the device's own settings, and how the gateway publishes its readings. The settings
// were checked by creating the framer, parser and channels, so SerialDevice::create succeeds with them.
struct SerialSection {
  devices::serial::SerialDeviceSettings device;  // device.name: [A-Za-z0-9_-]+, unique among all devices
  PayloadForm payload = PayloadForm::json;
  // Home Assistant: by channel, the channel's `homeassistant` table, and the channels whose set_format
  // the config writes (homeassistant::ChannelOptions::control).
  std::map<std::string, homeassistant::ChannelOptions, std::less<>> homeassistant;

  bool operator==(const SerialSection&) const = default;
};

// One [[gpio]] entry: one line (or PWM channel), and how the gateway publishes its readings.
struct GpioSection {
  devices::gpio::GpioDeviceSettings device;  // device.name: unique among all devices
  PayloadForm payload = PayloadForm::json;
  // Home Assistant: the [gpio.homeassistant.ENTITY] overrides (channels and pulse_buttons only; the
  // gateway fills in the rest of the options from the payload form).
  homeassistant::DeviceOptions homeassistant;

  bool operator==(const GpioSection&) const = default;
};

// One other member of the site: [[replication.peers]] or an inline table in replication.peers.
struct ReplicationPeer {
  std::uint32_t node = 0;  // 1..65535, unique in the site
  std::string address;     // "A.B.C.D:port" or "[v6]:port", checked by quorum::parse_endpoint

  bool operator==(const ReplicationPeer&) const = default;
};

// [replication]: this gateway is a member of the site's replicated register (quorum/). Absent: it is not.
struct ReplicationSection {
  std::uint32_t node = 0;              // required, 1..65535, not used by a peer
  std::string listen;                  // required: where this member's UDP socket binds
  std::vector<ReplicationPeer> peers;  // the other members; 0, 2 or 4 of them (sites of 1, 3 or 5)
  std::string key_file;                // required; checked readable, 32 bytes, not accessible by others
  std::string state_dir = "/var/lib/fieldgate/quorum";
  bool fsync = true;  // false: benchmarks only (acknowledged writes can be lost)
  std::chrono::milliseconds min_interval{
      1000};                                // readings: at most one replicated write per key per interval
  std::chrono::milliseconds timeout{2000};  // of one read or write
  std::chrono::milliseconds heartbeat{1000};
  std::chrono::milliseconds restore_timeout{
      10000};                             // how long outputs wait for their desired states at start
  std::vector<std::uint32_t> drop_peers;  // fault injection for tests: cut the links to these nodes
  // Fault injection for tests: drop the large datagrams (stores of large values) to these nodes for
  // drop_large_for after the first one.
  std::vector<std::uint32_t> drop_large_to;
  std::chrono::milliseconds drop_large_for{3000};

  bool operator==(const ReplicationSection&) const = default;
};

// [control]: the local control socket of `fieldgate status`, `get` and `put`.
struct ControlSection {
  std::string socket = "/run/fieldgate/control.sock";  // empty: no control socket
};

struct Config {
  GatewaySection gateway;
  MqttSection mqtt;
  std::vector<SerialSection> serial;
  std::vector<GpioSection> gpio;
  std::optional<ReplicationSection> replication;
  ControlSection control;
  homeassistant::Settings homeassistant;
  std::string source;  // the file name it was read from, as given
};

// Parses and checks a whole config. On failure, every issue found, in file order (by line, then column).
// source_name is the file name written into the issues.
std::expected<Config, std::vector<ConfigIssue>> parse_config(std::string_view toml_text,
                                                             const std::string& source_name);

// Reads the file and parses it. A file that cannot be read is one issue naming the OS error.
std::expected<Config, std::vector<ConfigIssue>> load_config(const std::string& path);

// What Home Assistant discovery takes from the config for one device (gateway/homeassistant/options.hpp):
// its payload form and its entities' overrides; for a name that is no device, the defaults.
homeassistant::DeviceOptions homeassistant_options(const Config& config, std::string_view device);

// The gateway id when [gateway] id is not set: the host name up to its first dot, every character outside
// [A-Za-z0-9_-] replaced by '-'; "fieldgate" when that leaves nothing.
std::string default_gateway_id();
std::string sanitize_gateway_id(std::string_view host_name);

// The config spelling of a log level: "error", "warning", "notice", "info", "debug".

}  // namespace fg::gateway
