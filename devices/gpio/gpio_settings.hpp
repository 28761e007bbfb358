#pragma once
// The settings of one GPIO device ([[gpio]] of the config): one line of a GPIO chip used as an input
// (its level, or a pulse counter), as an output, or one channel of a hardware PWM. One device is one line
// (or one PWM channel) so that a line that is busy or gone takes only its own device offline, and so
// that each device is one Home Assistant entity group with its own availability.
//
// The channels each mode produces (docs/configuration.md, [[gpio]]):
//   state    "state": the level (boolean), at start and on each change
//   counter  "count": pulses counted (integer, never goes back), "rate": pulses per minute, at `interval`
//   output   "state": the level (boolean), settable (on/off/1/0/true/false/toggle) and pulse
//   pwm      "duty": per cent (settable), "frequency": Hz (settable)

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fg::devices::gpio {

// Which kernel interface drives the line: the character device through libgpiod (v1 or v2, whichever
// the build found), or the legacy /sys/class/gpio. `automatic` takes libgpiod when the build has it and
// the system has a /dev/gpiochip*, else sysfs.
enum class Backend : std::uint8_t { automatic, gpiod, sysfs };
enum class Mode : std::uint8_t { state, counter, output, pwm };
// Which transitions count (counter) or are published (state). Both edges are always requested from the
// kernel, so that the software debounce sees every change.
enum class Edge : std::uint8_t { rising, falling, both };
enum class Bias : std::uint8_t { as_is, pull_up, pull_down, disabled };
// An output's level at shutdown: off, on, or left as it is.
enum class SafeState : std::uint8_t { off, on, keep };

// The Pi header chips, newest first (Pi 5, Pi 4, Pi 1-3 and Zero), which chip = "auto" looks for.
inline const std::vector<std::string> kPiHeaderLabels = {"pinctrl-rp1", "pinctrl-bcm2711", "pinctrl-bcm2835"};

struct LineSettings {
  // "auto"; a label ("pinctrl-rp1"); a path ("/dev/gpiochip0"); a name ("gpiochip0").
  std::string chip = "auto";
  // A name ("GPIO17") or a decimal offset ("17"). sysfs knows offsets only.
  std::string line;
  Backend backend = Backend::automatic;
  bool active_low = false;
  Bias bias = Bias::as_is;
  // The labels chip = "auto" looks for (tests put a gpio-sim label here; the config does not expose it).
  std::vector<std::string> auto_labels = kPiHeaderLabels;
  // Where the backends look; tests point them elsewhere.
  std::string dev_dir = "/dev";
  std::string sysfs_gpio_dir = "/sys/class/gpio";

  bool operator==(const LineSettings&) const = default;
};

struct InputSettings {
  Edge edge = Edge::both;
  // A change counts once the line has kept its new level this long (0: every edge). The kernel does it
  // where libgpiod v2 offers it; v1 and sysfs do the same in software (debounce.hpp).
  std::chrono::milliseconds debounce{0};
  // counter: how often the count and the rate are published (and the count saved).
  std::chrono::milliseconds interval{60000};

  bool operator==(const InputSettings&) const = default;
};

struct OutputSettings {
  bool initial = false;
  SafeState safe = SafeState::off;
  std::chrono::milliseconds pulse{500};      // a pulse with an empty payload
  std::chrono::milliseconds max_pulse{3600000};  // longer pulses are refused

  bool operator==(const OutputSettings&) const = default;
};

struct PwmSettings {
  std::string chip;  // the pwmchip directory: "/sys/class/pwm/pwmchip0"
  unsigned channel = 0;
  double frequency = 25000;  // Hz at start
  double duty = 0;           // per cent at start
  double min_frequency = 1;
  double max_frequency = 1000000;
  std::optional<double> safe_duty;  // per cent at shutdown; nullopt: the output is disabled

  bool operator==(const PwmSettings&) const = default;
};

struct GpioDeviceSettings {
  std::string name;
  Mode mode = Mode::state;
  LineSettings line;
  InputSettings input;
  OutputSettings output;
  PwmSettings pwm;
  // counter: where the count is kept (one small file per device, "<name>.count").
  std::string state_dir = "/var/lib/fieldgate/gpio";
  // How often a line (or PWM channel) that could not be opened is tried again.
  std::chrono::milliseconds reopen_interval{5000};

  // A reload reopens a device whose settings differ.
  bool operator==(const GpioDeviceSettings&) const = default;
};

}  // namespace fg::devices::gpio
