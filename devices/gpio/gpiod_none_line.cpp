// A build without libgpiod (FG_GPIOD_API 0): backend = "gpiod" is refused with a clear error; "auto" uses
// sysfs.

#include "devices/gpio/gpio_error.hpp"
#include "devices/gpio/line.hpp"

namespace fg::devices::gpio {

int gpiod_api() noexcept {
  return 0;
}

const char* gpiod_version() noexcept {
  return "";
}

LineResult open_gpiod_line(const LineRequest&) {
  return std::unexpected(LineError{make_error_code(GpioError::no_gpiod),
                                   "this fieldgate was built without libgpiod; backend = \"sysfs\" works"});
}

}  // namespace fg::devices::gpio
