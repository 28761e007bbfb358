#pragma once
// Errors are values: a register operation (read, write) that fails says why with a std::error_code of
// the quorum category, which callers branch on, plus a detail line for humans (which key, who did not
// answer, what the limit is), which nobody parses. Tests assert the code, never the wording.
//
// The durable state's own errors (a damaged epoch file, ...) are StateError in disk_format.hpp.

#include <expected>
#include <string>
#include <system_error>
#include <type_traits>

namespace fg::quorum {

enum class OpErrc : int {
  // A majority did not answer within the operation's timeout, and nothing was stored: a read returned
  // nothing, a write (still in its first phase) wrote nothing anywhere.
  no_quorum = 1,
  // A write's store phase ran out of time after it had sent its value: it may or may not have taken
  // effect (a later read tells), exactly like any write whose answer was lost.
  outcome_unknown,
  // The coordinator already has CoordinatorOptions::max_in_flight operations open: refused at once,
  // nothing was sent. Retrying later is safe.
  busy,
  empty_key,        // the key is empty
  key_too_long,     // the key is longer than kMaxKeySize
  value_too_large,  // the value is longer than kMaxValueSize
};

const std::error_category& quorum_category() noexcept;

// The code's name as written above ("outcome_unknown"), for machines: the control socket's answers carry
// it, so clients branch on it rather than on the English text. Codes of other categories are "error".
const char* code_name(const std::error_code& code) noexcept;

inline std::error_code make_error_code(OpErrc e) noexcept {
  return {static_cast<int>(e), quorum_category()};
}

struct OpError {
  std::error_code code;
  std::string detail;  // for humans; may be empty, then message() is the code's own text

  std::string message() const { return detail.empty() ? code.message() : detail; }
};

inline OpError op_error(OpErrc code, std::string detail) {
  return OpError{make_error_code(code), std::move(detail)};
}

template <typename T>
using OpResult = std::expected<T, OpError>;

}  // namespace fg::quorum

template <>
struct std::is_error_code_enum<fg::quorum::OpErrc> : std::true_type {};
