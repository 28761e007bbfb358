#pragma once
// ReadingRate: readings per minute over the last minute, from the running total sampled now and then
// (the gateway samples it every 10 s and on status changes). Before a minute has passed, the rate over
// the time since the first sample.

#include <chrono>
#include <cstdint>
#include <deque>
#include <utility>

namespace fg::gateway {

class ReadingRate {
 public:
  using Time = std::chrono::milliseconds;  // a monotonic clock (loop::Loop::now())

  void sample(Time now, std::uint64_t total) {
    // Samples closer than a second apart add nothing: the deque stays at about 60 entries.
    if (!samples_.empty() && now - samples_.back().first < std::chrono::seconds(1)) {
      samples_.back().second = total;
      return;
    }
    samples_.emplace_back(now, total);
    // Keep the newest sample at or before a minute ago as the window's start.
    while (samples_.size() > 2 && samples_[1].first <= now - std::chrono::minutes(1)) {
      samples_.pop_front();
    }
  }

  double per_minute() const {
    if (samples_.size() < 2) {
      return 0;
    }
    const auto span = samples_.back().first - samples_.front().first;
    const auto count = samples_.back().second - samples_.front().second;
    return span.count() <= 0 ? 0 : static_cast<double>(count) * 60000.0 / static_cast<double>(span.count());
  }

 private:
  std::deque<std::pair<Time, std::uint64_t>> samples_;
};

}  // namespace fg::gateway
