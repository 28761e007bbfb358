#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace fg::devices::serial {

// Why a line yielded no fields. Every one is counted by LineParser; none is fatal.
enum class ParseErrorKind : std::uint8_t {
  empty,          // nothing but whitespace
  nul_byte,       // a 0x00 byte: line noise, a baud rate mismatch, or binary data on a text port
  invalid_utf8,   // not UTF-8 (RFC 3629: no overlong forms, surrogates, or code points past U+10FFFF)
  syntax,         // JSON that does not parse; a kv quoted value not closed, or with an unknown escape
  not_an_object,  // JSON that parses but is not an object
  no_fields,      // well formed, but nothing in it became a field
  no_match,       // the regex did not match
};

struct ParseError {
  ParseErrorKind kind{};
  std::size_t offset = 0;  // byte offset in the line of the first bad byte, where one is known

  bool operator==(const ParseError&) const = default;
};

std::string_view to_string(ParseErrorKind kind) noexcept;

}  // namespace fg::devices::serial
