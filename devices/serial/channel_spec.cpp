#include "devices/serial/channel_spec.hpp"

#include <charconv>
#include <cmath>
#include <optional>
#include <string>
#include <system_error>

#include <fmt/format.h>

#include "devices/serial/text.hpp"

namespace fg::devices::serial {

namespace {

bool equals_ignoring_case(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    const char c = (a[i] >= 'A' && a[i] <= 'Z') ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    if (c != b[i]) {
      return false;
    }
  }
  return true;
}

Expected<double, ConvertError> parse_number(std::string_view text) {
  text = trim_space(text);
  // from_chars takes a '-' but not a '+'; allow one '+' before a digit or '.', never "+-1".
  if (text.size() > 1 && text[0] == '+' && text[1] != '-' && text[1] != '+') {
    text.remove_prefix(1);
  }
  double value = 0;
  const char* const end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec == std::errc::result_out_of_range) {
    return fail(ConvertError::out_of_range);
  }
  if (ec != std::errc() || ptr != end || text.empty()) {
    return fail(ConvertError::not_a_number);
  }
  return value;
}

// Text that is a whole decimal integer (optional sign, digits only) within 64 bits.
std::optional<std::int64_t> parse_integer(std::string_view text) {
  text = trim_space(text);
  if (text.size() > 1 && text[0] == '+' && text[1] != '-' && text[1] != '+') {
    text.remove_prefix(1);
  }
  std::int64_t value = 0;
  const char* const end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || text.empty()) {
    return std::nullopt;
  }
  return value;
}

Expected<Value, ConvertError> to_number(const ChannelSpec& spec, const Value& raw) {
  // An integer without scale or offset stays exact: 64 bits, where a double keeps only 53.
  const bool identity = spec.scale == 1.0 && spec.offset == 0.0;
  double number = 0;
  if (const auto* d = std::get_if<double>(&raw)) {
    number = *d;
  } else if (const auto* b = std::get_if<bool>(&raw)) {
    number = *b ? 1.0 : 0.0;
  } else if (const auto* i = std::get_if<std::int64_t>(&raw)) {
    if (identity) {
      return raw;
    }
    number = static_cast<double>(*i);
  } else {
    const std::string& text = std::get<std::string>(raw);
    if (auto integer = parse_integer(text); integer && identity) {
      return Value(std::in_place_type<std::int64_t>, *integer);
    }
    auto parsed = parse_number(text);
    if (!parsed) {
      return fail(parsed.error());
    }
    number = *parsed;
  }
  if (!std::isfinite(number)) {
    return fail(ConvertError::out_of_range);
  }
  const double scaled = number * spec.scale + spec.offset;
  if (!std::isfinite(scaled)) {
    return fail(ConvertError::out_of_range);
  }
  return Value(std::in_place_type<double>, scaled);
}

Expected<Value, ConvertError> to_boolean(const Value& raw) {
  if (const auto* b = std::get_if<bool>(&raw)) {
    return Value(std::in_place_type<bool>, *b);
  }
  if (const auto* d = std::get_if<double>(&raw)) {
    if (*d == 1.0 || *d == 0.0) {
      return Value(std::in_place_type<bool>, *d == 1.0);
    }
    return fail(ConvertError::not_a_boolean);
  }
  if (const auto* i = std::get_if<std::int64_t>(&raw)) {
    if (*i == 1 || *i == 0) {
      return Value(std::in_place_type<bool>, *i == 1);
    }
    return fail(ConvertError::not_a_boolean);
  }
  const std::string_view text = trim_space(std::get<std::string>(raw));
  for (const std::string_view yes : {"true", "on", "yes", "1"}) {
    if (equals_ignoring_case(text, yes)) {
      return Value(std::in_place_type<bool>, true);
    }
  }
  for (const std::string_view no : {"false", "off", "no", "0"}) {
    if (equals_ignoring_case(text, no)) {
      return Value(std::in_place_type<bool>, false);
    }
  }
  return fail(ConvertError::not_a_boolean);
}

Value to_text(const Value& raw) {
  if (const auto* d = std::get_if<double>(&raw)) {
    // The shortest text that reads back as the same double, written as the payload writes a number
    // (gateway/payload.cpp): fmt, not std::to_chars, whose shortest-double tables alone are 0.11 MiB
    // of the Pi program (docs/deployment.md). Fixed notation from 1e-4 up to 1e16, an exponent outside.
    return Value(std::in_place_type<std::string>, fmt::format("{}", *d));
  }
  if (const auto* b = std::get_if<bool>(&raw)) {
    return Value(std::in_place_type<std::string>, *b ? "true" : "false");
  }
  if (const auto* i = std::get_if<std::int64_t>(&raw)) {
    return Value(std::in_place_type<std::string>, std::to_string(*i));
  }
  return raw;
}

}  // namespace

std::string_view to_string(ConvertError error) noexcept {
  switch (error) {
    case ConvertError::not_a_number:
      return "not a number";
    case ConvertError::not_a_boolean:
      return "not a boolean";
    case ConvertError::out_of_range:
      return "number out of range";
  }
  return "unknown conversion error";
}

Expected<Value, ConvertError> convert(const ChannelSpec& spec, const Value& raw) {
  switch (spec.kind) {
    case ValueKind::number:
      return to_number(spec, raw);
    case ValueKind::boolean:
      return to_boolean(raw);
    case ValueKind::text:
      break;
  }
  return to_text(raw);
}

}  // namespace fg::devices::serial
