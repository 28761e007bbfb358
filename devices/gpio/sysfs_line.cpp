// The legacy sysfs backend (/sys/class/gpio), for kernels or containers without the character device:
// export the line, set active_low, direction and edge = both, then watch the value file for POLLPRI and
// re-read it from offset 0 after every wake-up (the kernel's sysfs_notify on an edge). sysfs has no kernel
// timestamps (the device takes the time of the wake-up), no bias and no debounce.
//
// The chip is found by its label (every gpiochipB directory has label, base and ngpio), or by the
// character device's name (gpiochipN, the parent of the sysfs chip directory). Lines are offsets only:
// sysfs does not know line names.

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "devices/gpio/chip_spec.hpp"
#include "devices/gpio/gpio_error.hpp"
#include "devices/gpio/line.hpp"
#include "loop/unique_fd.hpp"

namespace fg::devices::gpio {
namespace {

std::error_code last_error() {
  return {errno, std::generic_category()};
}

std::optional<std::string> read_text(const std::string& path) {
  loop::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  char buffer[128];
  const ssize_t got = fd ? ::read(fd.get(), buffer, sizeof buffer) : -1;
  if (got < 0) {
    return std::nullopt;
  }
  std::string text(buffer, static_cast<std::size_t>(got));
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
    text.pop_back();
  }
  return text;
}

std::error_code write_text(const std::string& path, std::string_view text) {
  loop::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) {
    return last_error();
  }
  if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    return last_error();
  }
  return {};
}

std::chrono::nanoseconds monotonic_now() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

struct SysfsChip {
  std::string dir;  // /sys/class/gpio/gpiochipB
  unsigned base = 0;
  unsigned ngpio = 0;
  std::string label;
};

// The gpiochipN that a sysfs chip directory belongs to: its real path is .../gpiochipN/gpio/gpiochipB.
std::string cdev_name(const std::string& dir) {
  std::error_code ec;
  const auto real = std::filesystem::canonical(dir, ec);
  if (ec) {
    return {};
  }
  const auto parent = real.parent_path();
  std::string name = parent.filename() == "gpio" ? parent.parent_path().filename().string() : std::string();
  return name.starts_with("gpiochip") ? name : std::string();
}

std::expected<SysfsChip, LineError> find_chip(const LineSettings& line) {
  const ChipSpec spec = parse_chip_spec(line.chip);
  const std::string wanted_name =
      spec.kind == ChipSpec::Kind::path ? std::filesystem::path(spec.text).filename().string() : spec.text;
  std::size_t best_rank = SIZE_MAX;
  SysfsChip best;
  const auto names = list_chip_names(line.sysfs_gpio_dir);
  for (const std::string& name : names) {
    SysfsChip chip;
    chip.dir = line.sysfs_gpio_dir + "/" + name;
    const auto label = read_text(chip.dir + "/label");
    const auto base = read_text(chip.dir + "/base");
    const auto ngpio = read_text(chip.dir + "/ngpio");
    if (!label || !base || !ngpio || !line_offset(*base) || !line_offset(*ngpio)) {
      continue;
    }
    chip.label = *label;
    chip.base = *line_offset(*base);
    chip.ngpio = *line_offset(*ngpio);
    std::size_t rank = SIZE_MAX;
    switch (spec.kind) {
      case ChipSpec::Kind::label: rank = chip.label == spec.text ? 0 : SIZE_MAX; break;
      case ChipSpec::Kind::path:
      case ChipSpec::Kind::name: rank = cdev_name(chip.dir) == wanted_name ? 0 : SIZE_MAX; break;
      case ChipSpec::Kind::automatic:
        for (std::size_t i = 0; i < line.auto_labels.size(); ++i) {
          if (line.auto_labels[i] == chip.label) {
            rank = i;
            break;
          }
        }
        break;
    }
    if (rank < best_rank) {
      best_rank = rank;
      best = chip;
    }
  }
  if (best_rank == SIZE_MAX) {
    return std::unexpected(LineError{make_error_code(GpioError::chip_not_found),
                                     "cannot find " + chip_wanted(line) + " among " + std::to_string(names.size()) +
                                         " GPIO chip(s) in " + line.sysfs_gpio_dir});
  }
  return best;
}

class SysfsLine final : public Line {
 public:
  SysfsLine(std::string gpio_dir, unsigned number, std::string description, std::string chip_node)
      : gpio_dir_(std::move(gpio_dir)),
        number_(number),
        description_(std::move(description)),
        chip_node_(std::move(chip_node)) {}
  ~SysfsLine() override {
    value_fd_.reset();
    // The line goes back to the kernel, so another process (or our next start) can take it.
    (void)write_text(gpio_dir_ + "/unexport", std::to_string(number_));
  }

  std::error_code open(const LineRequest& request) {
    const std::string dir = line_dir();
    if (auto ec = write_text(dir + "/active_low", request.line.active_low ? "1" : "0")) {
      return ec;
    }
    if (request.output) {
      // "high" and "low" set the raw level together with the direction (no glitch); active_low applies
      // to the logical value only.
      const bool raw = request.initial != request.line.active_low;
      if (auto ec = write_text(dir + "/direction", raw ? "high" : "low")) {
        return ec;
      }
    } else {
      if (auto ec = write_text(dir + "/direction", "in")) {
        return ec;
      }
      if (auto ec = write_text(dir + "/edge", "both")) {
        return ec;
      }
    }
    value_fd_.reset(::open((dir + "/value").c_str(), (request.output ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NONBLOCK));
    if (!value_fd_) {
      return last_error();
    }
    output_ = request.output;
    auto first = value();  // the first read also clears the POLLPRI pending since the export
    last_level_ = first.value_or(false);
    return first ? std::error_code{} : first.error();
  }

  std::string line_dir() const { return gpio_dir_ + "/gpio" + std::to_string(number_); }

  int event_fd() const noexcept override { return output_ ? -1 : value_fd_.get(); }
  loop::PollEvents event_kind() const noexcept override { return loop::PollEvents::priority; }
  const std::string& description() const noexcept override { return description_; }
  const std::string& chip_node() const noexcept override { return chip_node_; }

  // sysfs says only that something changed, and the level now. A wake-up that finds the level it found
  // last time missed at least a change and back (a short pulse, or several, coalesced by the kernel):
  // it is reported as one such pair, so a counter undercounts fast pulses rather than missing them all.
  std::error_code read_events(std::vector<LineEvent>& out) override {
    auto level = value();
    if (!level) {
      return level.error();
    }
    const auto now = monotonic_now();
    if (*level == last_level_) {
      out.push_back({!*level, now, 0});
    }
    out.push_back({*level, now, 0});
    last_level_ = *level;
    return {};
  }

  std::expected<bool, std::error_code> value() override {
    char c = 0;
    const ssize_t got = ::pread(value_fd_.get(), &c, 1, 0);
    if (got < 0) {
      return std::unexpected(last_error());
    }
    if (got == 0) {
      return std::unexpected(std::make_error_code(std::errc::no_such_device));
    }
    return c == '1';
  }

  std::error_code set_value(bool level) override {
    const char c = level ? '1' : '0';
    return ::pwrite(value_fd_.get(), &c, 1, 0) == 1 ? std::error_code{} : last_error();
  }

 private:
  std::string gpio_dir_;
  unsigned number_;
  std::string description_;
  std::string chip_node_;  // known limit: without a character device, an unplug goes unnoticed here
  loop::UniqueFd value_fd_;
  bool output_ = false;
  bool last_level_ = false;
};

}  // namespace

LineResult open_sysfs_line(const LineRequest& request) {
  const auto offset = line_offset(request.line.line);
  if (!offset) {
    return std::unexpected(LineError{make_error_code(GpioError::needs_offset),
                                     "line \"" + request.line.line +
                                         "\": the sysfs backend addresses lines by offset (line = \"17\")"});
  }
  if (request.line.bias != Bias::as_is) {
    return std::unexpected(LineError{make_error_code(GpioError::sysfs_no_bias),
                                     "the sysfs backend cannot set a bias (bias = \"as-is\", or backend = \"gpiod\")"});
  }
  auto chip = find_chip(request.line);
  if (!chip) {
    return std::unexpected(std::move(chip.error()));
  }
  if (*offset >= chip->ngpio) {
    return std::unexpected(LineError{make_error_code(GpioError::line_not_found),
                                     "no line " + request.line.line + " on " + chip->dir + " (" + chip->label +
                                         ", " + std::to_string(chip->ngpio) + " lines)"});
  }
  const unsigned number = chip->base + *offset;
  const std::string description =
      "sysfs " + chip->dir + " (" + chip->label + ") line " + request.line.line + " (gpio" + std::to_string(number) + ")";
  const std::string line_dir = request.line.sysfs_gpio_dir + "/gpio" + std::to_string(number);
  if (auto ec = write_text(request.line.sysfs_gpio_dir + "/export", std::to_string(number))) {
    // EBUSY: exported already (by a run of ours that was killed: taken over) or held through the
    // character device by another process (no directory: busy).
    std::error_code exists;
    if (ec != std::errc::device_or_resource_busy || !std::filesystem::is_directory(line_dir, exists)) {
      return std::unexpected(line_error(ec, "export " + description));
    }
  }
  // From here on the destructor unexports the line again.
  const std::string cdev = cdev_name(chip->dir);
  auto line = std::make_unique<SysfsLine>(request.line.sysfs_gpio_dir, number, description,
                                          cdev.empty() ? "" : request.line.dev_dir + "/" + cdev);
  if (auto ec = line->open(request)) {
    return std::unexpected(line_error(ec, "set up " + description));
  }
  return line;
}

}  // namespace fg::devices::gpio
