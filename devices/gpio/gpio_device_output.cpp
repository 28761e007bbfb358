// GpioDevice's commands: outputs (set, toggle, pulse), PWM (duty, frequency), and the safe state at the end.

#include <cerrno>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "devices/gpio/gpio_device_core.hpp"
#include "devices/gpio/gpio_error.hpp"

namespace fg::devices::gpio {
namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t' || text.front() == '\n' || text.front() == '\r')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\n' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

// "250ms", "2s", "1min" or a bare number of milliseconds.
std::optional<std::chrono::milliseconds> parse_pulse(std::string_view text) {
  std::uint64_t number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc{} || end == text.data() || number > 365ULL * 24 * 3600 * 1000) {
    return std::nullopt;
  }
  const std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
  if (unit.empty() || unit == "ms") {
    return std::chrono::milliseconds(number);
  }
  if (unit == "s") {
    return std::chrono::seconds(number);
  }
  if (unit == "min") {
    return std::chrono::minutes(number);
  }
  return std::nullopt;
}

std::optional<double> parse_number(std::string_view text) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

std::optional<bool> parse_level(std::string_view payload, bool current) {
  const std::string_view text = trim(payload);
  if (text == "on" || text == "ON" || text == "1" || text == "true") {
    return true;
  }
  if (text == "off" || text == "OFF" || text == "0" || text == "false") {
    return false;
  }
  if (text == "toggle") {
    return !current;
  }
  return std::nullopt;
}

std::error_code GpioDevice::Core::accept(const Command& command) {
  std::error_code ec = make_error_code(std::errc::operation_not_supported);
  if (settings_.mode == Mode::output && command.channel == "state") {
    if (command.kind == CommandKind::set) {
      ec = set_output(command.payload);
    } else if (command.kind == CommandKind::pulse) {
      ec = pulse_output(command.payload);
    }
  } else if (settings_.mode == Mode::pwm && command.kind == CommandKind::set &&
             (command.channel == "duty" || command.channel == "frequency")) {
    ec = set_pwm(command.channel, command.payload);
  }
  ++(ec ? counters_.refused_commands : counters_.commands);
  return ec;
}

std::string GpioDevice::Core::desired_state(std::string_view channel) const {
  if (settings_.mode == Mode::output && channel == "state" && desired_) {
    return *desired_ ? "on" : "off";
  }
  if (settings_.mode == Mode::pwm && (channel == "duty" || channel == "frequency")) {
    // The shortest text that reads back as the same double: a restore sets exactly this value. fmt, as
    // devices/serial/channel_spec.cpp writes numbers, keeps std::to_chars(double) out of the program.
    return fmt::format("{}", channel == "duty" ? duty_ : frequency_);
  }
  return {};
}

std::error_code GpioDevice::Core::set_output(std::string_view payload) {
  // A toggle turns the level the line has (on during a pulse), or the one it will have when it opens.
  const auto level = parse_level(payload, line_ ? level_ : desired_.value_or(settings_.output.initial));
  if (!level) {
    return GpioError::bad_value;
  }
  pulse_timer_.stop();  // a set ends a pulse
  desired_ = *level;
  if (!line_) {
    return {};  // kept: the line is requested at this level when it opens
  }
  return drive(*level);
}

std::error_code GpioDevice::Core::pulse_output(std::string_view payload) {
  const std::string_view text = trim(payload);
  const auto duration = text.empty() ? std::optional(settings_.output.pulse) : parse_pulse(text);
  if (!duration || duration->count() == 0) {
    return GpioError::bad_value;
  }
  if (*duration > settings_.output.max_pulse) {
    return GpioError::out_of_range;
  }
  if (!line_) {
    return offline_reason_ ? offline_reason_ : make_error_code(std::errc::no_such_device);
  }
  if (auto ec = drive(true)) {
    return ec;
  }
  // Where the pulse ends is the desired state (what the register keeps): a restart never replays a pulse,
  // nor brings back a level a pulse ended.
  desired_ = false;
  // A second pulse restarts the timer: the output stays on until the last pulse's duration is over. It
  // counts from now, not from the start of the loop's iteration (GpioOnSim.APulseEndsOnTime saw a 300 ms
  // pulse end after 150 ms when the command came late).
  loop_.update_time();
  pulse_timer_.start(*duration, [this] {
    enter([this] {
      desired_ = false;
      if (line_) {
        (void)drive(false);
      }
    });
  });
  return {};
}

std::error_code GpioDevice::Core::drive(bool level) {
  if (auto ec = line_->set_value(level)) {
    return ec;
  }
  level_ = level;
  publish_level(std::chrono::nanoseconds(0));
  return {};
}

std::error_code GpioDevice::Core::set_pwm(const std::string& channel, std::string_view payload) {
  const auto value = parse_number(trim(payload));
  if (!value) {
    return GpioError::bad_value;
  }
  if (channel == "duty") {
    if (*value < 0 || *value > 100) {
      return GpioError::out_of_range;
    }
    duty_ = *value;
  } else {
    if (*value < settings_.pwm.min_frequency || *value > settings_.pwm.max_frequency) {
      return GpioError::out_of_range;
    }
    frequency_ = *value;
  }
  if (!pwm_) {
    return {};  // kept: applied when the channel opens
  }
  return apply_pwm();
}

std::error_code GpioDevice::Core::apply_pwm() {
  if (auto ec = pwm_->apply(frequency_, duty_)) {
    return ec;
  }
  const auto now = std::chrono::system_clock::now();
  publish("duty", duty_, "%", now);
  if (!orphaned_) {
    publish("frequency", frequency_, "Hz", now);
  }
  return {};
}

void GpioDevice::Core::go_safe() {
  pulse_timer_.stop();
  if (line_ && settings_.mode == Mode::output && settings_.output.safe != SafeState::keep) {
    (void)line_->set_value(settings_.output.safe == SafeState::on);
  }
  if (pwm_) {
    if (settings_.pwm.safe_duty) {
      (void)pwm_->apply(frequency_, *settings_.pwm.safe_duty);
    } else {
      (void)pwm_->disable();
    }
  }
}

}  // namespace fg::devices::gpio
