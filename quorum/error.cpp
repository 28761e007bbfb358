#include "quorum/error.hpp"

namespace fg::quorum {
namespace {

class QuorumCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "quorum"; }

  std::string message(int value) const override {
    switch (static_cast<OpErrc>(value)) {
      case OpErrc::no_quorum:
        return "no quorum answered in time; nothing was written";
      case OpErrc::outcome_unknown:
        return "no quorum acknowledged the write in time; it may or may not have taken effect";
      case OpErrc::busy:
        return "too many register operations in flight; try again later";
      case OpErrc::empty_key:
        return "the key is empty";
      case OpErrc::key_too_long:
        return "the key is too long";
      case OpErrc::value_too_large:
        return "the value is too large";
    }
    return "unknown quorum error";
  }

  std::error_condition default_error_condition(int value) const noexcept override {
    switch (static_cast<OpErrc>(value)) {
      case OpErrc::no_quorum:
      case OpErrc::outcome_unknown:
        return std::errc::timed_out;
      case OpErrc::busy:
        return std::errc::resource_unavailable_try_again;
      case OpErrc::empty_key:
      case OpErrc::key_too_long:
        return std::errc::invalid_argument;
      case OpErrc::value_too_large:
        return std::errc::value_too_large;
    }
    return {value, *this};
  }
};

}  // namespace

const std::error_category& quorum_category() noexcept {
  static const QuorumCategory category;
  return category;
}

const char* code_name(const std::error_code& code) noexcept {
  if (code.category() != quorum_category()) {
    return "error";
  }
  switch (static_cast<OpErrc>(code.value())) {
    case OpErrc::no_quorum:
      return "no_quorum";
    case OpErrc::outcome_unknown:
      return "outcome_unknown";
    case OpErrc::busy:
      return "busy";
    case OpErrc::empty_key:
      return "empty_key";
    case OpErrc::key_too_long:
      return "key_too_long";
    case OpErrc::value_too_large:
      return "value_too_large";
  }
  return "error";
}

}  // namespace fg::quorum
