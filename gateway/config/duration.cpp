#include "gateway/config/duration.hpp"

#include <array>
#include <charconv>
#include <cstdint>
#include <utility>

namespace fg::gateway {

namespace {

struct Unit {
  std::string_view name;
  std::int64_t milliseconds;
};

// The unit is the whole suffix after the digits, so "5min" cannot be mistaken for minutes and seconds.
constexpr std::array<Unit, 4> kUnits{{{"ms", 1}, {"s", 1000}, {"min", 60'000}, {"h", 3'600'000}}};

std::string quoted(std::string_view text) {
  std::string out = "\"";
  out.append(text);
  out += '"';
  return out;
}

}  // namespace

std::expected<std::chrono::milliseconds, std::string> parse_duration(std::string_view text) {
  if (!text.empty() && text.front() == '-') {
    return std::unexpected("must not be negative, got " + quoted(text));
  }
  const auto invalid = [text] {
    return std::unexpected("invalid duration " + quoted(text) +
                           ": write a whole number and a unit (ms, s, min, h), such as \"500ms\" or \"30s\"");
  };
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
    ++digits;
  }
  if (digits == 0) {
    return invalid();
  }
  const std::string_view suffix = text.substr(digits);
  const Unit* unit = nullptr;
  for (const Unit& candidate : kUnits) {
    if (candidate.name == suffix) {
      unit = &candidate;
    }
  }
  if (unit == nullptr) {
    return invalid();
  }
  std::uint64_t count = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + digits, count);
  const auto limit = static_cast<std::uint64_t>(kMaxDuration.count() / unit->milliseconds);
  if (error != std::errc() || end != text.data() + digits || count > limit) {
    return std::unexpected("duration " + quoted(text) + " is too long: at most " +
                           format_duration(kMaxDuration));
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(count) * unit->milliseconds);
}

std::string format_duration(std::chrono::milliseconds duration) {
  const std::int64_t ms = duration.count();
  for (auto it = kUnits.rbegin(); it != kUnits.rend(); ++it) {
    if (ms != 0 && ms % it->milliseconds == 0) {
      return std::to_string(ms / it->milliseconds) + std::string(it->name);
    }
  }
  return ms == 0 ? std::string("0s") : std::to_string(ms) + "ms";
}

}  // namespace fg::gateway
