#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "devices/serial/channel_filter.hpp"
#include "devices/serial/expected.hpp"
#include "devices/serial/field.hpp"

namespace fg::devices::serial {

enum class ValueKind : std::uint8_t { number, boolean, text };

// How the raw value of one channel is turned into the value published.
struct ChannelSpec {
  std::string name;  // the field name the parser produces
  ValueKind kind = ValueKind::number;
  // Numbers only: published = raw * scale + offset.
  double scale = 1.0;
  double offset = 0.0;
  std::string unit;  // carried along for the payload and discovery, never interpreted
  FilterSpec filter;

  bool operator==(const ChannelSpec&) const = default;
};

enum class ConvertError : std::uint8_t {
  not_a_number,   // text that is not a decimal number, for a number channel
  not_a_boolean,  // a value that is not one of the boolean spellings, for a boolean channel
  out_of_range,   // a number that is infinite or NaN, before or after scale and offset
};

std::string_view to_string(ConvertError error) noexcept;

// Converts a raw value to the channel's kind.
//
// number: a double as is; a boolean as 1 or 0; text, trimmed of ASCII whitespace, parsed whole with
//   std::from_chars (decimal or exponent form, an optional leading '+'; no hex, no thousands separators, no
//   unit suffix; always '.' whatever the locale). "nan" and "inf" parse but are out_of_range.
// boolean: a boolean as is; the number 1 or 0; text true/false, on/off, yes/no, 1/0 in any case.
// text: text as is; a number in the shortest form that reads back exactly; a boolean as true/false.
Expected<Value, ConvertError> convert(const ChannelSpec& spec, const Value& raw);

}  // namespace fg::devices::serial
