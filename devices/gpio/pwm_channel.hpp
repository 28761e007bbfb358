#pragma once
// PwmChannel: one channel of a hardware PWM through /sys/class/pwm (the Pi's dtoverlay=pwm): export it if
// it is not, then write period and duty_cycle in nanoseconds and enable. The files are written
// synchronously; nothing is watched.
//
// The kernel refuses a duty_cycle above the period, so when the period shrinks the duty cycle is written
// first, and when it grows the period is. Known limit: after `export` the pwmN directory appears at once,
// but udev may give it to the gpio group a moment later; until then open() fails and the device retries.

#include <expected>
#include <string>
#include <system_error>

#include "devices/gpio/gpio_settings.hpp"
#include "devices/gpio/line.hpp"

namespace fg::devices::gpio {

class PwmChannel {
 public:
  static std::expected<PwmChannel, LineError> open(const PwmSettings& settings);

  // Sets frequency (Hz) and duty (per cent, 0..100) and enables the output.
  std::error_code apply(double frequency, double duty);
  std::error_code disable();

  const std::string& dir() const noexcept { return dir_; }
  static std::uint64_t period_ns(double frequency);
  static std::uint64_t duty_ns(std::uint64_t period, double duty);

 private:
  explicit PwmChannel(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;  // <chip>/pwmN
};

}  // namespace fg::devices::gpio
