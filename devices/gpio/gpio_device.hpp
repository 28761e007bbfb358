#pragma once
// GpioDevice: one [[gpio]] entry (one line, or one PWM channel) as a devices::Device (gpio_settings.hpp
// lists its modes and channels). The line is requested through the backend its settings choose
// (line.hpp); its event descriptor is watched on the loop, so an idle input costs no wake-up.
//
// A line that cannot be opened (no such chip or line, busy in another process, the chip unplugged) makes
// this device offline, with the reason, and is tried again every reopen_interval; nothing else is
// affected. Commands:
//   output  set "state": on/off/1/0/true/false/toggle; pulse "state": on for the payload's duration
//           ("250ms", "2s", a bare number of ms; empty: the configured pulse), then off; a second pulse
//           restarts it, a set ends it. A set while offline is kept and applied when the line opens (the
//           register's desired state, restored at start, arrives that way).
//   pwm     set "duty" (0..100 per cent) and "frequency" (Hz within the configured bounds), kept the
//           same way.
// On destruction an output goes to its safe state and a PWM to its safe duty (or disabled); a counter
// saves its count.
//
// Destroying it is allowed anywhere, also inside one of its own Sink callbacks (the Core is reaped when
// the callback returns, as SerialDevice's is).

#include <expected>
#include <memory>
#include <string>
#include <vector>

#include "devices/device.hpp"
#include "devices/gpio/gpio_settings.hpp"
#include "loop/loop.hpp"

namespace fg::devices::gpio {

// The channels a device of this mode has, as GpioDevice::channels() gives them: the config reads a
// channel's Home Assistant overrides before any device exists.
std::vector<ChannelInfo> mode_channels(Mode mode);

class GpioDevice final : public Device {
 public:
  // Fails only when a counter's state directory cannot be opened or its saved count is damaged. A line
  // that is absent or busy is no error: the device is offline and keeps trying. Sink callbacks may run
  // from inside this call (a line that opens at once publishes its level).
  static std::expected<std::unique_ptr<GpioDevice>, std::string> create(loop::Loop& loop,
                                                                        GpioDeviceSettings settings, Sink sink,
                                                                        ChannelNameRule channel_name_rule);
  ~GpioDevice() override;

  const std::string& name() const noexcept override;
  std::string_view kind() const noexcept override { return "gpio"; }
  bool online() const noexcept override;
  std::error_code offline_reason() const noexcept override;
  std::error_code accept(const Command& command) override;
  // An output's "on" or "off" (a toggle resolved), a PWM's duty or frequency as a number.
  std::string desired_state(std::string_view channel) const override;
  // Readings wait while paused (a counter keeps counting; a state input publishes its level on resume if
  // it changed).
  void pause_input(bool paused) override;
  std::vector<ChannelInfo> channels() const override;
  std::vector<Counter> counters() const override;

 private:
  class Core;
  explicit GpioDevice(Core* core) noexcept : core_(core) {}
  Core* core_;
};

}  // namespace fg::devices::gpio
