#pragma once
// Command: what the gateway asks a device to do, taken from an MQTT command topic. The payload is the
// text as it arrived; each kind of device parses it (a GPIO output reads "on"/"off"/"toggle", a serial
// device fills the channel's set_format with it).

#include <chrono>
#include <cstdint>
#include <string>

namespace fg::devices {

enum class CommandKind : std::uint8_t {
  set,      // <channel>/set: set an output or a device setting to the payload's value
  write,    // write: raw bytes to a serial port
  request,  // request: write, then wait for the device's reply (published as a Reply)
  pulse,    // <channel>/pulse: an output on for a while, then off (payload: a duration, or empty)
};

struct Command {
  CommandKind kind = CommandKind::set;
  std::string channel;  // set and pulse; empty for write and request
  std::string payload;
};

// The answer to a request: the reply the device sent, or why there was none (timeout, device offline,
// refused). Turned into a payload by the gateway.
struct Reply {
  std::string request;
  bool ok = false;
  std::string text;  // the reply when ok, otherwise the error
  std::chrono::system_clock::time_point time;
};

}  // namespace fg::devices
