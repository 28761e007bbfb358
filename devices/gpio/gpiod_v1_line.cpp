// The libgpiod v1 (1.6) backend: Debian 12 and Raspberry Pi OS bookworm. Compiled when FG_GPIOD_API is 1.
// v1 has no kernel debounce and no sequence numbers: the device debounces in software.

#include <time.h>

#include <cerrno>

#include "devices/gpio/gpiod_common.hpp"
#include "devices/gpio/gpiod_handles.hpp"

namespace fg::devices::gpio {
namespace {

using gpiod_handles::Chip;

// The kernel keeps 16 events per v1 request (a fixed kfifo in gpiolib-cdev) and drops the newest when it
// is full; a read takes them all at once.
constexpr int kEvents = 16;

std::error_code last_error() {
  return {errno, std::generic_category()};
}

class GpiodV1Line final : public Line {
 public:
  GpiodV1Line(Chip chip, gpiod_line* line, std::string description, std::string chip_node)
      : chip_(std::move(chip)), line_(line), description_(std::move(description)), chip_node_(std::move(chip_node)) {}
  ~GpiodV1Line() override { gpiod_line_release(line_); }

  int event_fd() const noexcept override { return fd_; }
  loop::PollEvents event_kind() const noexcept override { return loop::PollEvents::readable; }
  const std::string& description() const noexcept override { return description_; }
  const std::string& chip_node() const noexcept override { return chip_node_; }

  std::error_code watch() {
    fd_ = gpiod_line_event_get_fd(line_);
    if (fd_ < 0) {
      return last_error();
    }
    return set_nonblocking(fd_);
  }

  // A full buffer may have dropped the newest edges, the last of which sets the level the line has now:
  // after a read that found it full, the level is read too, and a difference is an edge of its own (timed
  // now), so a state input never stays at a level the line left.
  std::error_code read_events(std::vector<LineEvent>& out) override {
    gpiod_line_event events[kEvents];
    const std::size_t before = out.size();
    bool full = false;
    auto ec = drain_events(
        kEvents,
        [&] {
          const int got = gpiod_line_event_read_fd_multiple(fd_, events, kEvents);
          full = full || got == kEvents;
          return got;
        },
        [&](int i) {
          // CLOCK_MONOTONIC since Linux 5.7 (every Pi kernel in use).
          const auto ts = std::chrono::seconds(events[i].ts.tv_sec) + std::chrono::nanoseconds(events[i].ts.tv_nsec);
          out.push_back({events[i].event_type == GPIOD_LINE_EVENT_RISING_EDGE, ts, 0});
        });
    if (ec || !full || out.size() == before) {
      return ec;
    }
    auto level = value();
    if (!level) {
      return level.error();
    }
    if (*level != out.back().level) {
      timespec now{};
      ::clock_gettime(CLOCK_MONOTONIC, &now);
      out.push_back({*level, std::chrono::seconds(now.tv_sec) + std::chrono::nanoseconds(now.tv_nsec), 0});
    }
    return {};
  }

  std::expected<bool, std::error_code> value() override {
    const int v = gpiod_line_get_value(line_);
    if (v < 0) {
      return std::unexpected(last_error());
    }
    return v != 0;
  }

  std::error_code set_value(bool level) override {
    return gpiod_line_set_value(line_, level ? 1 : 0) < 0 ? last_error() : std::error_code{};
  }

 private:
  Chip chip_;
  gpiod_line* line_;  // owned by chip_; released by the destructor
  std::string description_;
  std::string chip_node_;
  int fd_ = -1;
};

}  // namespace

int gpiod_api() noexcept {
  return 1;
}

const char* gpiod_version() noexcept {
  return gpiod_version_string();
}

LineResult open_gpiod_line(const LineRequest& request) {
  auto found = find_gpiod_chip<Chip>(
      request.line, [](const std::string& path) { return Chip(gpiod_chip_open(path.c_str())); },
      [](gpiod_chip* chip) { return std::string(gpiod_chip_label(chip)); });
  if (!found) {
    return std::unexpected(std::move(found.error()));
  }
  auto& [chip, path] = *found;
  const std::string where = path + " (" + gpiod_chip_label(chip.get()) + ")";
  gpiod_line* line = nullptr;
  if (const auto offset = line_offset(request.line.line)) {
    line = gpiod_chip_get_line(chip.get(), *offset);
  } else {
    line = gpiod_chip_find_line(chip.get(), request.line.line.c_str());
  }
  if (line == nullptr) {
    return std::unexpected(LineError{make_error_code(GpioError::line_not_found),
                                     "no line \"" + request.line.line + "\" on " + where});
  }
  gpiod_line_request_config config{};
  config.consumer = request.consumer.c_str();
  config.request_type =
      request.output ? GPIOD_LINE_REQUEST_DIRECTION_OUTPUT : GPIOD_LINE_REQUEST_EVENT_BOTH_EDGES;
  if (request.line.active_low) {
    config.flags |= GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW;
  }
  switch (request.line.bias) {
    case Bias::as_is: break;
    case Bias::pull_up: config.flags |= GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP; break;
    case Bias::pull_down: config.flags |= GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN; break;
    case Bias::disabled: config.flags |= GPIOD_LINE_REQUEST_FLAG_BIAS_DISABLE; break;
  }
  const std::string description = "gpiod v1 " + where + " line " + request.line.line;
  if (gpiod_line_request(line, &config, request.initial ? 1 : 0) < 0) {
    return std::unexpected(line_error(last_error(), "request " + description));
  }
  auto result = std::make_unique<GpiodV1Line>(std::move(chip), line, description, path);
  if (!request.output) {
    if (auto ec = result->watch()) {
      return std::unexpected(line_error(ec, "watch " + description));
    }
  }
  return result;
}

}  // namespace fg::devices::gpio
