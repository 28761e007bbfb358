#pragma once
// SerialDeviceSettings: everything one serial device is made of, as one [[serial]] table of the config
// gives it (docs/configuration.md). The gateway's config reader fills it in and checks it: the framer, the
// parser and the channels by creating them, the reply pattern by compiling it. So SerialDevice::create
// fails only on settings that were never checked.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "devices/serial/channel_spec.hpp"
#include "devices/serial/framer.hpp"
#include "devices/serial/line_parser.hpp"
#include "devices/serial/port.hpp"

namespace fg::devices::serial {

// What to do with a parsed field that no channel of the settings names.
enum class UnlistedPolicy : std::uint8_t {
  publish,  // a reading with an automatic kind: a number if the text reads as one, else the text
  drop,
};

// Request/response mode: each command written to the port waits for a reply line that matches
// reply_pattern (or a COBS REPLY frame), for at most timeout.
struct RequestSettings {
  std::string reply_pattern;  // RE2 syntax
  std::chrono::milliseconds timeout{1000};

  bool operator==(const RequestSettings&) const = default;
};

// One listed channel: how its values are converted and filtered, and how a `set` command is written.
struct ChannelSettings {
  ChannelSpec spec;  // spec.name is the field name the parser produces
  // A fmt format string with {channel} and {value}; {{ and }} are literal braces. Empty: no `set`.
  std::string set_format = "{channel}={value}";

  bool operator==(const ChannelSettings&) const = default;
};

struct SerialDeviceSettings {
  std::string name;  // the device's name; the gateway makes it a topic level
  PortSettings port;
  FramerConfig framer = LineFramerConfig{};
  ParserConfig parser = KvParserConfig{};
  std::string write_terminator = "\n";  // appended to commands written to the port (not with COBS)
  UnlistedPolicy unlisted = UnlistedPolicy::publish;
  std::optional<RequestSettings> request;  // empty: commands are written and forgotten
  std::vector<ChannelSettings> channels;   // in order of name

  bool operator==(const SerialDeviceSettings&) const = default;
};

}  // namespace fg::devices::serial
