#pragma once
// Durations in the config file: a TOML string holding a whole number and a unit, "250ms", "2s", "5min", "1h".

#include <chrono>
#include <expected>
#include <string>
#include <string_view>

namespace fg::gateway {

// The longest duration any setting takes: a year. It keeps every duration far from the overflow of the
// nanosecond clocks it is converted to.
inline constexpr std::chrono::milliseconds kMaxDuration = std::chrono::hours(24 * 365);

// Parses "<digits><unit>" with unit ms, s, min or h; no sign, no fraction, no space. The error is a message
// for the user that quotes the text ("invalid duration \"30 sec\": ...", or "must not be negative" for a
// leading '-').
std::expected<std::chrono::milliseconds, std::string> parse_duration(std::string_view text);

// The shortest exact spelling in the same units: 1500ms -> "1500ms", 30000ms -> "30s", 3600000ms -> "1h".
std::string format_duration(std::chrono::milliseconds duration);

}  // namespace fg::gateway
