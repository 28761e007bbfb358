#pragma once
// Reading: one value a device produced, on its way to the gateway (which turns it into an MQTT payload,
// a replicated register entry, a spool record). Every kind of device (serial, GPIO, ...) produces the
// same type; nothing here knows topics or payload formats.

#include <chrono>
#include <cstdint>
#include <string>
#include <variant>

namespace fg::devices {

// The value of a reading. Integers are kept exact as 64-bit (a meter total or a counter above 2^53 must
// not round); numbers with a fraction or an exponent are doubles; booleans stay booleans.
using ReadingValue = std::variant<double, bool, std::string, std::int64_t>;

struct Reading {
  std::string device;
  std::string channel;
  ReadingValue value;
  std::string unit;  // empty when the channel has none
  // Wall-clock time of the event (for GPIO edges, the kernel's timestamp of the edge): only for the
  // payload, never for timing, which uses the monotonic clock.
  std::chrono::system_clock::time_point time;
  // Per channel, +1 for each reading published. Devices leave it 0: the gateway numbers readings where
  // it publishes them, for every kind of device alike, because the promises made about seq (gap-free,
  // continued across restarts) are the gateway's.
  std::uint64_t seq = 0;
};

}  // namespace fg::devices
