#pragma once
// Line: one requested GPIO line, whichever kernel interface holds it (libgpiod v1 or v2, or sysfs). The
// device watches event_fd() on the loop for event_kind() and calls read_events() when it is ready: no
// polling, no thread. An input is always requested for both edges (the device filters them after the
// debounce); an output has no event fd.
//
// A chip that goes away (unplugged, gpio-sim's live = 0) shows as an error from the poll or from
// read_events(); the device then drops the Line and opens it again later.

#include <chrono>
#include <cstdint>
#include <expected>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "devices/gpio/gpio_settings.hpp"
#include "loop/poll.hpp"

namespace fg::devices::gpio {

struct LineEvent {
  bool level = false;                    // the logical level after the edge (active_low applied)
  std::chrono::nanoseconds timestamp{};  // CLOCK_MONOTONIC: the kernel's, where the backend has one
  std::uint64_t seqno = 0;               // libgpiod v2's line sequence number; 0 elsewhere
};

struct LineRequest {
  LineSettings line;
  bool output = false;
  bool initial = false;  // output
  // input: the kernel's debounce, which only libgpiod v2 offers; the others ignore it.
  std::chrono::milliseconds debounce{0};
  std::string consumer;  // shown by gpioinfo: "fieldgate:<device>"
};

// Why a line could not be opened: the error, and a sentence for the log that names what was looked for.
struct LineError {
  std::error_code code;
  std::string text;
};

class Line {
 public:
  Line() = default;
  Line(const Line&) = delete;
  Line& operator=(const Line&) = delete;
  virtual ~Line() = default;

  virtual int event_fd() const noexcept = 0;  // -1 for an output
  virtual loop::PollEvents event_kind() const noexcept = 0;
  // Appends the events waiting; an error when the line is gone.
  virtual std::error_code read_events(std::vector<LineEvent>& out) = 0;
  virtual std::expected<bool, std::error_code> value() = 0;
  virtual std::error_code set_value(bool level) = 0;
  // Whether the kernel debounces (then the device does not).
  virtual bool kernel_debounce() const noexcept { return false; }
  // "gpiod v1 /dev/gpiochip0 line 17", for the log.
  virtual const std::string& description() const noexcept = 0;
  // The chip's character device ("/dev/gpiochip0"), empty if there is none. The device watches it with
  // inotify: the kernel (6.1) does not wake a request's descriptor when its chip goes away, so an unplug
  // is seen as the node disappearing.
  virtual const std::string& chip_node() const noexcept = 0;
};

using LineResult = std::expected<std::unique_ptr<Line>, LineError>;

// The libgpiod backend this build has (1 or 2), 0 for none.
int gpiod_api() noexcept;
// The version of the libgpiod it runs on, as the library itself reports it ("1.6.3"); empty for none.
const char* gpiod_version() noexcept;
LineResult open_gpiod_line(const LineRequest& request);
LineResult open_sysfs_line(const LineRequest& request);
// backend = auto: libgpiod if built and a gpiochip exists in dev_dir, else sysfs.
LineResult open_line(const LineRequest& request);

// The decimal offset a line setting names, if it is one ("17"); nullopt for a name ("GPIO17").
std::optional<unsigned> line_offset(const std::string& line) noexcept;

}  // namespace fg::devices::gpio
