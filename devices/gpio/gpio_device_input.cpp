// GpioDevice's inputs: edges from the line's descriptor, the debounce, the state and counter readings.

#include <time.h>

#include "devices/gpio/gpio_device_core.hpp"

namespace fg::devices::gpio {
namespace {

std::chrono::nanoseconds monotonic_now() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

// The wall-clock time of a monotonic timestamp (the kernel's edge time); 0 means now.
std::chrono::system_clock::time_point wall_time(std::chrono::nanoseconds monotonic) {
  const auto now = std::chrono::system_clock::now();
  if (monotonic.count() == 0) {
    return now;
  }
  return now - std::chrono::duration_cast<std::chrono::system_clock::duration>(monotonic_now() - monotonic);
}

bool edge_counts(Edge edge, bool level) {
  return edge == Edge::both || (edge == Edge::rising) == level;
}

}  // namespace

void GpioDevice::Core::on_poll(std::error_code status) {
  if (!line_) {
    return;
  }
  if (status) {
    // The kernel reports a chip that went away as an error on the request's descriptor.
    lost(status, line_->description() + ": " + status.message());
    return;
  }
  std::vector<LineEvent> events;
  if (auto ec = line_->read_events(events)) {
    lost(ec, line_->description() + ": " + ec.message());
    return;
  }
  for (const LineEvent& event : events) {
    on_edge(event);
    if (orphaned_ || !line_) {
      return;
    }
  }
  settle();
}

void GpioDevice::Core::on_edge(const LineEvent& event) {
  ++counters_.edges;
  if (event.seqno != 0) {
    // A request numbers its edges from 1, so a first event numbered 5 says 4 went before it was read.
    if (event.seqno > last_seqno_ + 1) {
      counters_.kernel_dropped_edges += event.seqno - last_seqno_ - 1;
    }
    last_seqno_ = event.seqno;
  }
  // What held long enough before this edge counts first; with no debounce period, the edge itself too.
  if (auto change = debouncer_->settle(event.timestamp)) {
    on_change(change->level, change->at);
  }
  if (debouncer_->edge(event.level, event.timestamp)) {
    ++counters_.bounces;
  }
  if (auto change = debouncer_->settle(event.timestamp)) {
    on_change(change->level, change->at);
  }
}

// Takes what the debounce lets through, and arms its timer for what it still holds back.
void GpioDevice::Core::settle() {
  const auto now = monotonic_now();
  if (auto change = debouncer_->settle(now)) {
    on_change(change->level, change->at);
    if (orphaned_ || !line_) {
      return;
    }
  }
  if (auto deadline = debouncer_->deadline()) {
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(*deadline - now);
    debounce_timer_.start(std::max(wait, std::chrono::milliseconds(1)), [this] { enter([this] { settle(); }); });
  } else {
    debounce_timer_.stop();
  }
}

void GpioDevice::Core::on_change(bool level, std::chrono::nanoseconds at) {
  if (level == level_) {
    return;  // v1 and sysfs may report a level twice when edges come faster than the interrupt thread
  }
  level_ = level;
  if (!edge_counts(settings_.input.edge, level)) {
    return;
  }
  if (settings_.mode == Mode::counter) {
    ++count_;
  } else {
    publish_level(at);
  }
}

void GpioDevice::Core::publish_level(std::chrono::nanoseconds at) {
  if (paused_ && settings_.mode == Mode::state) {
    return;  // pause_input(false) publishes the level then, if it changed
  }
  published_level_ = level_;
  level_known_ = true;
  publish("state", level_, "", wall_time(at));
}

void GpioDevice::Core::publish_count() {
  const std::uint64_t pulses = count_ - count_at_interval_;
  count_at_interval_ = count_;
  const double per_minute =
      static_cast<double>(pulses) * 60000.0 / static_cast<double>(settings_.input.interval.count());
  const auto now = std::chrono::system_clock::now();
  publish("count", static_cast<std::int64_t>(count_), "", now);
  if (!orphaned_) {
    publish("rate", per_minute, "1/min", now);
  }
}

void GpioDevice::Core::save_count() {
  if (!store_) {
    return;
  }
  if (auto ec = store_->save(count_)) {
    log(Severity::error, "cannot save the count in " + settings_.state_dir + ": " + ec.message());
  }
}

void GpioDevice::Core::publish(std::string channel, ReadingValue value, std::string unit,
                               std::chrono::system_clock::time_point time) {
  if (orphaned_ || !sink_.on_reading) {
    return;
  }
  ++counters_.readings;
  sink_.on_reading(Reading{settings_.name, std::move(channel), std::move(value), std::move(unit), time, 0});
}

void GpioDevice::Core::pause_input(bool paused) {
  paused_ = paused;
  if (!paused && settings_.mode == Mode::state && line_ && (!level_known_ || published_level_ != level_)) {
    publish_level(std::chrono::nanoseconds(0));
  }
}

}  // namespace fg::devices::gpio
