#pragma once
// SimChip: one simulated GPIO chip made with the kernel's gpio-sim module through configfs, for tests that
// need a real gpiochip (the character device /dev/gpiochipN for libgpiod v1 and v2, and the legacy
// /sys/class/gpio interface). The module is not on build machines: these tests run inside the gpio-sim VM
// (tests/gpio-vm/, docs/testing.md) and skip elsewhere. No gtest dependency; errors come back as text.
//
//   if (!fg::test::SimChip::available()) GTEST_SKIP() << fg::test::SimChip::unavailable_reason();
//   auto chip = fg::test::SimChip::create({.num_lines = 8, .line_names = {{1, "GPIO17"}}});
//   ASSERT_TRUE(chip) << chip.error();
//   chip->dev_path();                       // "/dev/gpiochip3": open it with libgpiod
//   chip->label();                          // "fg-sim-1234-1" unless the spec names one ("pinctrl-rp1")
//   chip->set_pull(1, SimChip::Pull::up);   // drives input line 1 high: a rising edge for a requester
//   chip->value(2);                         // 0 or 1: what a requester drives on output line 2
//   chip->wait_value(2, 1, 2s);             // the same, waiting until it is 1 (an output set over MQTT)
//   chip->set_live(false);                  // unplug: the gpiochip device goes away
//   chip->set_live(true);                   // replug: a new gpiochip (dev_path() may change)
//   // the destructor takes the chip down and removes its configfs entries.
//
// What gpio-sim does (kernel 6.1, drivers/gpio/gpio-sim.c), so tests know what to expect:
// - Every line starts as an input pulled down (value 0). set_pull() changes the pull; a line requested as an
//   input with edge detection sees the edge at once, with a kernel timestamp, as from real hardware.
// - A requester's bias is the simulator's pull: requesting a line with pull-up sets the pull to up (and
//   set_pull() afterwards overrides it).
// - A line requested as an output: value() is the level the requester drives; set_pull() has no effect on
//   what the requester reads back.
// - A hog claims a line in the kernel (consumer = the hog's name) from the moment the chip is live: a
//   request for it fails with EBUSY, which is how a test gets a "line busy" error without a second process.
// - gpio-sim implements no hardware debounce: libgpiod v2's debounce_period_us is done by the kernel's
//   gpiolib-cdev in software (which is what real Pi chips do too).
// - The chip is also on the legacy sysfs interface: sysfs_base() is the global number of its line 0
//   (/sys/class/gpio/export takes sysfs_base() + offset).
//
// Labels must be unique among live chips for lookups by label to be meaningful; the default label is
// unique per process and chip. A test that crashed leaves its chip behind; remove_stale() takes down every
// chip this helper made in processes that no longer run.

#include <chrono>
#include <expected>
#include <map>
#include <string>
#include <vector>

namespace fg::test {

class SimChip {
 public:
  enum class Pull { up, down };
  enum class HogDirection { input, output_high, output_low };

  struct Hog {
    unsigned offset = 0;
    std::string consumer = "fg-sim-hog";  // the consumer name that other requesters see
    HogDirection direction = HogDirection::input;
  };

  struct Spec {
    unsigned num_lines = 8;
    std::string label;                            // empty: a unique "fg-sim-<pid>-<n>"
    std::map<unsigned, std::string> line_names;   // offset -> name ("GPIO17")
    std::vector<Hog> hogs;
  };

  // True when gpio-sim's configfs directory exists (configfs mounted and the module loaded).
  static bool available();
  // Why available() is false, for GTEST_SKIP.
  static std::string unavailable_reason();
  // Makes the chip, sets it live and finds its device. On error nothing is left behind.
  static std::expected<SimChip, std::string> create(const Spec& spec);
  // Takes down chips this helper made in processes that have exited. Returns how many it removed.
  static int remove_stale();

  SimChip(SimChip&& other) noexcept;
  SimChip& operator=(SimChip&& other) noexcept;
  SimChip(const SimChip&) = delete;
  SimChip& operator=(const SimChip&) = delete;
  ~SimChip();

  const std::string& label() const { return label_; }
  unsigned num_lines() const { return num_lines_; }
  // While live: the gpiochip device's name ("gpiochip3") and path ("/dev/gpiochip3").
  const std::string& chip_name() const { return chip_name_; }
  std::string dev_path() const { return "/dev/" + chip_name_; }
  // The platform device ("gpio-sim.0") and the directory of line `offset`'s sim attributes
  // (/sys/devices/platform/gpio-sim.0/gpiochip3/sim_gpio<offset>).
  const std::string& dev_name() const { return dev_name_; }
  std::string line_dir(unsigned offset) const;
  // The configfs directory of the chip (/sys/kernel/config/gpio-sim/<name>).
  const std::string& config_dir() const { return config_dir_; }

  // Drives the simulated input: pull-up reads 1, pull-down reads 0.
  std::expected<void, std::string> set_pull(unsigned offset, Pull pull);
  // The line's value as the simulator sees it: the output level for a line requested as output, the pull
  // otherwise.
  std::expected<int, std::string> value(unsigned offset) const;
  // Waits until value(offset) == expected or the timeout passes (checks every millisecond: gpio-sim gives
  // no notification when a requester changes an output). The error says what the value was instead.
  std::expected<void, std::string> wait_value(unsigned offset, int expected,
                                              std::chrono::milliseconds timeout) const;
  // Unplug (false) and replug (true). After a replug chip_name() and dev_name() are those of the new device.
  std::expected<void, std::string> set_live(bool live);
  bool live() const { return live_; }
  // The legacy sysfs number of line 0 (/sys/class/gpio/gpiochip<base>); an error if the chip is not live.
  std::expected<unsigned, std::string> sysfs_base() const;

 private:
  SimChip() = default;
  void destroy() noexcept;

  std::string config_dir_;
  std::string label_;
  unsigned num_lines_ = 0;
  std::vector<unsigned> lines_;  // offsets with a line<N> directory to remove
  std::vector<unsigned> hogs_;   // offsets with a line<N>/hog directory to remove
  std::string dev_name_;
  std::string chip_name_;
  bool live_ = false;
};

}  // namespace fg::test
