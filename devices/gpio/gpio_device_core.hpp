#pragma once
// The state of a GpioDevice, private to gpio_device*.cpp: on the heap at a stable address, because the
// poll and the timers call into it. Every entry from the loop and every public call runs through enter();
// a Core whose GpioDevice was destroyed meanwhile stops calling the Sink and is deleted when the
// outermost entry returns (DESIGN.md rule 4, as SerialDevice::Core).

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

#include "devices/gpio/counter_store.hpp"
#include "devices/gpio/debounce.hpp"
#include "devices/gpio/gpio_device.hpp"
#include "devices/gpio/line.hpp"
#include "devices/gpio/pwm_channel.hpp"
#include "loop/path_watch.hpp"
#include "loop/poll.hpp"
#include "loop/timer.hpp"

namespace fg::devices::gpio {

struct GpioCounters {
  std::uint64_t edges = 0;                 // edges the kernel reported
  std::uint64_t bounces = 0;               // edges the debounce held back
  std::uint64_t kernel_dropped_edges = 0;  // gaps in libgpiod v2's sequence numbers
  std::uint64_t readings = 0;
  std::uint64_t commands = 0;
  std::uint64_t refused_commands = 0;
  std::uint64_t opens = 0;
  std::uint64_t losses = 0;  // the line went away while open
};

// The level an output command asks for: on/off/1/0/true/false, or toggle (the opposite of current).
std::optional<bool> parse_level(std::string_view payload, bool current);

class GpioDevice::Core {
 public:
  Core(loop::Loop& loop, GpioDeviceSettings settings, Sink sink);
  Core(const Core&) = delete;
  Core& operator=(const Core&) = delete;

  // Loads a counter's count and tries the line a first time; the text of a failure.
  std::optional<std::string> init();

  template <typename F>
  void enter(F&& f) {
    ++depth_;
    f();
    if (--depth_ == 0 && orphaned_) {
      delete this;
    }
  }
  void release() noexcept;

  const GpioDeviceSettings& settings() const noexcept { return settings_; }
  bool online() const noexcept { return line_ != nullptr || pwm_.has_value(); }
  std::error_code offline_reason() const noexcept { return offline_reason_; }
  std::error_code accept(const Command& command);
  std::string desired_state(std::string_view channel) const;
  void pause_input(bool paused);
  std::vector<ChannelInfo> channels() const;
  std::vector<Counter> counters() const;

 private:
  ~Core() = default;

  // Opening and losing the line (gpio_device.cpp).
  void try_open();
  void opened();
  void lost(std::error_code why, const std::string& text);
  void watch_chip();
  void log(Severity severity, std::string_view message) const;

  // Inputs (gpio_device_input.cpp).
  void on_poll(std::error_code status);
  void on_edge(const LineEvent& event);
  void settle();
  void on_change(bool level, std::chrono::nanoseconds at);
  void publish_level(std::chrono::nanoseconds at);
  void publish_count();
  void save_count();
  void publish(std::string channel, ReadingValue value, std::string unit,
               std::chrono::system_clock::time_point time);

  // Outputs and PWM (gpio_device_output.cpp).
  std::error_code set_output(std::string_view payload);
  std::error_code pulse_output(std::string_view payload);
  std::error_code drive(bool level);
  std::error_code set_pwm(const std::string& channel, std::string_view payload);
  std::error_code apply_pwm();
  void go_safe();

  loop::Loop& loop_;
  GpioDeviceSettings settings_;
  Sink sink_;
  GpioCounters counters_;
  std::error_code offline_reason_;
  std::string offline_text_;
  int depth_ = 0;
  bool orphaned_ = false;
  bool paused_ = false;

  // Input state.
  bool level_ = false;            // the (debounced) level last taken
  bool published_level_ = false;  // the level last published (state mode)
  bool level_known_ = false;      // published_level_ is valid
  std::optional<Debouncer> debouncer_;
  std::uint64_t last_seqno_ = 0;
  std::uint64_t count_ = 0;
  std::uint64_t count_at_interval_ = 0;
  std::optional<CounterStore> store_;

  // Output state: what the line should be (desired_), and PWM's frequency and duty.
  std::optional<bool> desired_;
  double frequency_ = 0;
  double duty_ = 0;

  loop::Timer retry_timer_;
  loop::Timer debounce_timer_;
  loop::Timer interval_timer_;
  loop::Timer pulse_timer_;
  std::optional<PwmChannel> pwm_;
  std::unique_ptr<Line> line_;
  std::optional<loop::PathWatch> chip_watch_;  // the chip's node, while the line is open
  std::optional<loop::Poll> poll_;             // last: watches line_'s descriptor
};

}  // namespace fg::devices::gpio
