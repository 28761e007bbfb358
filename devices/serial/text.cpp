#include "devices/serial/text.hpp"

#include <cstddef>
#include <cstdint>

namespace fg::devices::serial {

namespace {

// Length of the UTF-8 sequence starting at text[i], or 0 if it is not a valid one. The ranges of the second
// byte after E0, ED, F0 and F4 exclude overlong forms, UTF-16 surrogates and code points past U+10FFFF.
std::size_t utf8_sequence(std::string_view text, std::size_t i) noexcept {
  const auto byte = [&](std::size_t k) { return static_cast<std::uint8_t>(text[k]); };
  const std::uint8_t lead = byte(i);
  if (lead < 0x80) {
    return 1;
  }
  std::size_t length = 0;
  std::uint8_t low = 0x80;
  std::uint8_t high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) {
      low = 0xA0;
    } else if (lead == 0xED) {
      high = 0x9F;
    }
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) {
      low = 0x90;
    } else if (lead == 0xF4) {
      high = 0x8F;
    }
  } else {
    return 0;
  }
  if (text.size() - i < length) {
    return 0;
  }
  if (byte(i + 1) < low || byte(i + 1) > high) {
    return 0;
  }
  for (std::size_t k = 2; k < length; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) {
      return 0;
    }
  }
  return length;
}

}  // namespace

std::optional<ParseError> check_text(std::string_view line) noexcept {
  std::size_t i = 0;
  while (i < line.size()) {
    if (line[i] == '\0') {
      return ParseError{ParseErrorKind::nul_byte, i};
    }
    const std::size_t length = utf8_sequence(line, i);
    if (length == 0) {
      return ParseError{ParseErrorKind::invalid_utf8, i};
    }
    i += length;
  }
  return std::nullopt;
}

bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

std::string_view trim_space(std::string_view text) noexcept {
  while (!text.empty() && is_space(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && is_space(text.back())) {
    text.remove_suffix(1);
  }
  return text;
}

}  // namespace fg::devices::serial
