#include "loop/error.hpp"

#include <uv.h>

#include <string>

namespace fg::loop {
namespace {

class UvCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "libuv"; }

  std::string message(int value) const override { return uv_strerror(-value); }

  // On Unix libuv's codes are negated errno values, except its own (UV_EOF, UV_EAI_*), which start at
  // 3000. The errno-like ones map to the generic category, so `ec == std::errc::...` works.
  std::error_condition default_error_condition(int value) const noexcept override {
    constexpr int kFirstLibuvOwnCode = 3000;
    if (value < kFirstLibuvOwnCode) {
      return {value, std::generic_category()};
    }
    return {value, *this};
  }
};

}  // namespace

const std::error_category& uv_category() noexcept {
  static const UvCategory category;
  return category;
}

}  // namespace fg::loop
