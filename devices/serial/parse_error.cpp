#include "devices/serial/parse_error.hpp"

namespace fg::devices::serial {

std::string_view to_string(ParseErrorKind kind) noexcept {
  switch (kind) {
    case ParseErrorKind::empty:
      return "empty line";
    case ParseErrorKind::nul_byte:
      return "NUL byte in line";
    case ParseErrorKind::invalid_utf8:
      return "invalid UTF-8 in line";
    case ParseErrorKind::syntax:
      return "syntax error (JSON, or a quoted kv value)";
    case ParseErrorKind::not_an_object:
      return "JSON line is not an object";
    case ParseErrorKind::no_fields:
      return "no fields in line";
    case ParseErrorKind::no_match:
      return "line does not match the regex";
  }
  return "unknown parse error";
}

}  // namespace fg::devices::serial
