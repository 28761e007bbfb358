#include "devices/gpio/pwm_channel.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "devices/gpio/gpio_error.hpp"
#include "loop/unique_fd.hpp"

namespace fg::devices::gpio {
namespace {

std::error_code write_file(const std::string& path, const std::string& text) {
  loop::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_TRUNC));
  if (!fd) {
    return {errno, std::generic_category()};
  }
  if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    return {errno, std::generic_category()};
  }
  return {};
}

std::uint64_t read_number(const std::string& path) {
  loop::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  char buffer[32] = {};
  if (!fd || ::read(fd.get(), buffer, sizeof buffer - 1) <= 0) {
    return 0;
  }
  return std::strtoull(buffer, nullptr, 10);
}

}  // namespace

std::expected<PwmChannel, LineError> PwmChannel::open(const PwmSettings& settings) {
  const std::string dir = settings.chip + "/pwm" + std::to_string(settings.channel);
  std::error_code ec;
  if (!std::filesystem::is_directory(settings.chip, ec)) {
    return std::unexpected(LineError{std::make_error_code(std::errc::no_such_file_or_directory),
                                     "no PWM chip " + settings.chip + " (is dtoverlay=pwm set?)"});
  }
  if (!std::filesystem::is_directory(dir, ec)) {
    if (auto write_error = write_file(settings.chip + "/export", std::to_string(settings.channel))) {
      return std::unexpected(LineError{write_error, "cannot export channel " + std::to_string(settings.channel) +
                                                        " of " + settings.chip + ": " + write_error.message()});
    }
    if (!std::filesystem::is_directory(dir, ec)) {
      return std::unexpected(LineError{make_error_code(GpioError::pwm_not_exported), dir + " did not appear after export"});
    }
  }
  return PwmChannel(dir);
}

// Both are positive (the config refuses anything else) and rounded by hand: std::llround is a call that
// would make fieldgate load libm (0.3 MiB of RSS on amd64) for two roundings.
std::uint64_t PwmChannel::period_ns(double frequency) {
  return static_cast<std::uint64_t>(1e9 / frequency + 0.5);
}

std::uint64_t PwmChannel::duty_ns(std::uint64_t period, double duty) {
  return static_cast<std::uint64_t>(static_cast<double>(period) * duty / 100.0 + 0.5);
}

std::error_code PwmChannel::apply(double frequency, double duty) {
  const std::uint64_t period = period_ns(frequency);
  const std::uint64_t duty_cycle = duty_ns(period, duty);
  const auto write_period = [&] { return write_file(dir_ + "/period", std::to_string(period)); };
  const auto write_duty = [&] { return write_file(dir_ + "/duty_cycle", std::to_string(duty_cycle)); };
  const bool shrinking = period < read_number(dir_ + "/duty_cycle");
  if (auto ec = shrinking ? write_duty() : write_period()) {
    return ec;
  }
  if (auto ec = shrinking ? write_period() : write_duty()) {
    return ec;
  }
  return write_file(dir_ + "/enable", "1");
}

std::error_code PwmChannel::disable() {
  return write_file(dir_ + "/enable", "0");
}

}  // namespace fg::devices::gpio
