#include "devices/gpio/gpio_error.hpp"

#include <string>

namespace fg::devices::gpio {
namespace {

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "gpio"; }
  std::string message(int code) const override {
    switch (static_cast<GpioError>(code)) {
      case GpioError::chip_not_found: return "GPIO chip not found";
      case GpioError::line_not_found: return "GPIO line not found";
      case GpioError::no_gpiod: return "this build has no libgpiod (backend = \"sysfs\" works)";
      case GpioError::needs_offset: return "the sysfs backend addresses lines by offset, not by name";
      case GpioError::bad_value: return "not a value this channel takes";
      case GpioError::out_of_range: return "value out of range";
      case GpioError::pwm_not_exported: return "the PWM channel did not appear after export";
      case GpioError::bad_count_file: return "the saved count is damaged";
      case GpioError::sysfs_no_bias: return "the sysfs backend cannot set a bias";
    }
    return "unknown gpio error " + std::to_string(code);
  }
};

}  // namespace

const std::error_category& gpio_category() noexcept {
  static const Category category;
  return category;
}

}  // namespace fg::devices::gpio
