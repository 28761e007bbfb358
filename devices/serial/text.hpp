#pragma once

#include <optional>
#include <string_view>

#include "devices/serial/parse_error.hpp"

namespace fg::devices::serial {

// The text policy of every line parser: a line with a NUL byte or with bytes that are not strict UTF-8
// (RFC 3629) is rejected whole, with the offset of the first bad byte. Values end up in MQTT topics and JSON
// payloads, which must be UTF-8, and a NUL is a sign of line noise rather than of data. Other control
// characters pass. A device that sends binary needs the fixed or COBS framing and a binary decoder, not a
// line parser.
std::optional<ParseError> check_text(std::string_view line) noexcept;

// Strips ASCII whitespace (space, \t, \n, \v, \f, \r) from both ends. Unicode spaces are left alone.
std::string_view trim_space(std::string_view text) noexcept;

bool is_space(char c) noexcept;

}  // namespace fg::devices::serial
