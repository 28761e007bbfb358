#pragma once
// Readings and their MQTT payloads.

#include <chrono>
#include <cstdint>
#include <string>
#include <variant>

namespace fg::gateway {

using ReadingValue = std::variant<double, bool, std::string>;

struct Reading {
  std::string device;
  std::string channel;
  ReadingValue value;
  std::string unit;
  std::chrono::system_clock::time_point time;  // wall clock: only for the payload, never for timing
  std::uint64_t seq = 0;                       // per channel, +1 each reading, from 1 at start
};

// RFC 3339 UTC with milliseconds: 2026-11-23T19:43:23.123Z.
std::string format_rfc3339(std::chrono::system_clock::time_point time);

// {"value":21.5,"unit":"°C","time":"...","seq":17}; "unit" is left out when empty.
std::string json_payload(const Reading& reading);
// The value alone: 21.5, true, or the text.
std::string raw_payload(const ReadingValue& value);

}  // namespace fg::gateway
