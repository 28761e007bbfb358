// The libgpiod v2 (2.x) backend: Debian 13, bookworm-backports, Raspberry Pi OS trixie. Compiled when
// FG_GPIOD_API is 2. The kernel debounces (debounce_period_us) and numbers each line's edges, so a gap
// in the sequence numbers is a count of edges the kernel dropped (its event buffer was full).


#include <cerrno>

#include "devices/gpio/gpiod_common.hpp"
#include "devices/gpio/gpiod_handles.hpp"

namespace fg::devices::gpio {
namespace {

namespace h = gpiod_handles;

std::error_code last_error() {
  return {errno, std::generic_category()};
}

// Events taken per read().
constexpr int kEvents = 64;
// The kernel's buffer of edges for the request (its default is 16 per line; it allows up to 1,024): it
// holds the edges that come while the loop is busy elsewhere or the process is not scheduled, and when
// it is full the kernel drops the oldest (counted from the sequence numbers). 256 events of 48 bytes
// (12 KiB per input) hold a quarter of a second at 1,000 edges/s.
constexpr std::size_t kKernelEvents = 256;

class GpiodV2Line final : public Line {
 public:
  GpiodV2Line(h::Request request, unsigned offset, bool debounced, std::string description, std::string chip_node)
      : request_(std::move(request)),
        offset_(offset),
        debounced_(debounced),
        description_(std::move(description)),
        chip_node_(std::move(chip_node)),
        buffer_(gpiod_edge_event_buffer_new(kEvents)) {}

  int event_fd() const noexcept override { return fd_; }
  loop::PollEvents event_kind() const noexcept override { return loop::PollEvents::readable; }
  bool kernel_debounce() const noexcept override { return debounced_; }
  const std::string& description() const noexcept override { return description_; }
  const std::string& chip_node() const noexcept override { return chip_node_; }

  std::error_code watch() {
    if (!buffer_) {
      return last_error();
    }
    fd_ = gpiod_line_request_get_fd(request_.get());
    return set_nonblocking(fd_);
  }

  std::error_code read_events(std::vector<LineEvent>& out) override {
    return drain_events(
        kEvents, [&] { return gpiod_line_request_read_edge_events(request_.get(), buffer_.get(), kEvents); },
        [&](int i) {
          gpiod_edge_event* event = gpiod_edge_event_buffer_get_event(buffer_.get(), static_cast<unsigned long>(i));
          out.push_back({gpiod_edge_event_get_event_type(event) == GPIOD_EDGE_EVENT_RISING_EDGE,
                         std::chrono::nanoseconds(gpiod_edge_event_get_timestamp_ns(event)),
                         gpiod_edge_event_get_line_seqno(event)});
        });
  }

  std::expected<bool, std::error_code> value() override {
    const gpiod_line_value v = gpiod_line_request_get_value(request_.get(), offset_);
    if (v == GPIOD_LINE_VALUE_ERROR) {
      return std::unexpected(last_error());
    }
    return v == GPIOD_LINE_VALUE_ACTIVE;
  }

  std::error_code set_value(bool level) override {
    return gpiod_line_request_set_value(request_.get(), offset_,
                                        level ? GPIOD_LINE_VALUE_ACTIVE : GPIOD_LINE_VALUE_INACTIVE) < 0
               ? last_error()
               : std::error_code{};
  }

 private:
  h::Request request_;
  unsigned offset_;
  bool debounced_;
  std::string description_;
  std::string chip_node_;
  h::EventBuffer buffer_;
  int fd_ = -1;
};

std::string chip_label(gpiod_chip* chip) {
  h::ChipInfo info(gpiod_chip_get_info(chip));
  return info ? gpiod_chip_info_get_label(info.get()) : "";
}

}  // namespace

int gpiod_api() noexcept {
  return 2;
}

const char* gpiod_version() noexcept {
  return gpiod_api_version();
}

LineResult open_gpiod_line(const LineRequest& request) {
  auto found = find_gpiod_chip<h::Chip>(
      request.line, [](const std::string& path) { return h::Chip(gpiod_chip_open(path.c_str())); }, chip_label);
  if (!found) {
    return std::unexpected(std::move(found.error()));
  }
  auto& [chip, path] = *found;
  const std::string where = path + " (" + chip_label(chip.get()) + ")";
  const auto fail = [](const std::string& what) { return std::unexpected(line_error(last_error(), what)); };
  unsigned offset = 0;
  if (const auto number = line_offset(request.line.line)) {
    offset = *number;
    h::ChipInfo info(gpiod_chip_get_info(chip.get()));
    if (info && offset >= gpiod_chip_info_get_num_lines(info.get())) {
      return std::unexpected(LineError{make_error_code(GpioError::line_not_found),
                                       "no line " + request.line.line + " on " + where});
    }
  } else {
    const int found_offset = gpiod_chip_get_line_offset_from_name(chip.get(), request.line.line.c_str());
    if (found_offset < 0) {
      return std::unexpected(LineError{make_error_code(GpioError::line_not_found),
                                       "no line \"" + request.line.line + "\" on " + where});
    }
    offset = static_cast<unsigned>(found_offset);
  }
  const std::string description = "gpiod v2 " + where + " line " + request.line.line;

  h::LineSettings settings(gpiod_line_settings_new());
  h::LineConfig line_config(gpiod_line_config_new());
  h::RequestConfig request_config(gpiod_request_config_new());
  if (!settings || !line_config || !request_config) {
    return fail("request " + description);
  }
  gpiod_line_settings_set_active_low(settings.get(), request.line.active_low);
  gpiod_line_settings_set_bias(settings.get(), [&] {
    switch (request.line.bias) {
      case Bias::pull_up: return GPIOD_LINE_BIAS_PULL_UP;
      case Bias::pull_down: return GPIOD_LINE_BIAS_PULL_DOWN;
      case Bias::disabled: return GPIOD_LINE_BIAS_DISABLED;
      case Bias::as_is: break;
    }
    return GPIOD_LINE_BIAS_AS_IS;
  }());
  const bool debounced = !request.output && request.debounce.count() > 0;
  if (request.output) {
    gpiod_line_settings_set_direction(settings.get(), GPIOD_LINE_DIRECTION_OUTPUT);
    gpiod_line_settings_set_output_value(settings.get(),
                                         request.initial ? GPIOD_LINE_VALUE_ACTIVE : GPIOD_LINE_VALUE_INACTIVE);
  } else {
    gpiod_line_settings_set_direction(settings.get(), GPIOD_LINE_DIRECTION_INPUT);
    gpiod_line_settings_set_edge_detection(settings.get(), GPIOD_LINE_EDGE_BOTH);
    gpiod_line_settings_set_event_clock(settings.get(), GPIOD_LINE_CLOCK_MONOTONIC);
    if (debounced) {
      gpiod_line_settings_set_debounce_period_us(
          settings.get(), static_cast<unsigned long>(std::chrono::microseconds(request.debounce).count()));
    }
  }
  if (gpiod_line_config_add_line_settings(line_config.get(), &offset, 1, settings.get()) < 0) {
    return fail("request " + description);
  }
  gpiod_request_config_set_consumer(request_config.get(), request.consumer.c_str());
  if (!request.output) {
    gpiod_request_config_set_event_buffer_size(request_config.get(), kKernelEvents);
  }
  h::Request line_request(gpiod_chip_request_lines(chip.get(), request_config.get(), line_config.get()));
  if (!line_request) {
    return std::unexpected(line_error(last_error(), "request " + description));
  }
  auto result = std::make_unique<GpiodV2Line>(std::move(line_request), offset, debounced, description, path);
  if (!request.output) {
    if (auto ec = result->watch()) {
      return std::unexpected(line_error(ec, "watch " + description));
    }
  }
  return result;
}

}  // namespace fg::devices::gpio
