#pragma once
// How a [[gpio]] chip setting names its chip, and the chip lookups the backends share. Private to
// devices/gpio.

#include <string>
#include <vector>

#include "devices/gpio/gpio_settings.hpp"
#include "devices/gpio/line.hpp"

namespace fg::devices::gpio {

struct ChipSpec {
  enum class Kind { automatic, path, name, label };
  Kind kind;
  std::string text;
};

// "auto"; a path ("/dev/gpiochip0"); a name ("gpiochip4"); anything else is a label ("pinctrl-rp1").
ChipSpec parse_chip_spec(const std::string& chip);

// The gpiochipN entries of a directory, by N.
std::vector<std::string> list_chip_names(const std::string& dir);

// What the chip setting looks for, for the error when it is not found: "chip \"pinctrl-rp1\"".
std::string chip_wanted(const LineSettings& line);

// A failed request or export: "cannot WHAT: <error>", with who holds the line when it is busy.
LineError line_error(std::error_code ec, const std::string& what);

// Sets O_NONBLOCK: an event descriptor is drained until EAGAIN after each wake-up and must never block.
std::error_code set_nonblocking(int fd);

}  // namespace fg::devices::gpio
