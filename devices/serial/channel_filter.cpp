#include "devices/serial/channel_filter.hpp"

#include <cmath>
#include <cstdint>
#include <optional>

namespace fg::devices::serial {

namespace {

std::optional<double> number_of(const Value& value) {
  if (const auto* d = std::get_if<double>(&value)) {
    return *d;
  }
  if (const auto* i = std::get_if<std::int64_t>(&value)) {
    return static_cast<double>(*i);
  }
  return std::nullopt;
}

}  // namespace

bool ChannelFilter::changed(const Value& value) const {
  // Two integers compare exactly (as doubles, 2^53 + 1 would equal 2^53).
  const auto* now_int = std::get_if<std::int64_t>(&value);
  const auto* last_int = std::get_if<std::int64_t>(&*last_value_);
  if (now_int != nullptr && last_int != nullptr && spec_.deadband <= 0) {
    return *now_int != *last_int;
  }
  const auto now = number_of(value);
  const auto last = number_of(*last_value_);
  if (now && last) {
    const double difference = std::fabs(*now - *last);
    return spec_.deadband > 0 ? difference > spec_.deadband : *now != *last;
  }
  // Different kinds, booleans and text compare exactly.
  return value != *last_value_;
}

FilterVerdict ChannelFilter::offer(const Value& value, std::chrono::steady_clock::time_point now) {
  if (last_value_) {
    if (spec_.change_only && !changed(value)) {
      return FilterVerdict::unchanged;
    }
    // A time before the last one (only possible with made-up times) counts as too soon as well.
    if (spec_.min_interval.count() > 0 && now - last_time_ < spec_.min_interval) {
      return FilterVerdict::too_soon;
    }
  }
  last_value_ = value;
  last_time_ = now;
  return FilterVerdict::publish;
}

void ChannelFilter::reset() noexcept {
  last_value_.reset();
}

}  // namespace fg::devices::serial
