#pragma once
// The errors of devices/gpio that are not the kernel's (those stay errno values: EBUSY for a line another
// process holds, ENODEV for a chip that went away).

#include <system_error>

namespace fg::devices::gpio {

enum class GpioError {
  chip_not_found = 1,   // no chip with that label, name or path
  line_not_found,       // the chip has no line of that name, or the offset is beyond its lines
  no_gpiod,             // backend = "gpiod" in a build without libgpiod
  needs_offset,         // sysfs addresses lines by offset, not by name
  bad_value,            // a command's payload is not a value the channel takes
  out_of_range,         // a PWM frequency or duty outside its bounds
  pwm_not_exported,     // the PWM channel's directory did not appear after export
  bad_count_file,       // a counter's saved total fails its check
  sysfs_no_bias,        // the sysfs interface has no bias setting
};

const std::error_category& gpio_category() noexcept;

inline std::error_code make_error_code(GpioError e) noexcept {
  return {static_cast<int>(e), gpio_category()};
}

}  // namespace fg::devices::gpio

template <>
struct std::is_error_code_enum<fg::devices::gpio::GpioError> : std::true_type {};
