#include "devices/serial/channel_filter.hpp"

#include <cmath>

namespace fg::devices::serial {

bool ChannelFilter::changed(const Value& value) const {
  const auto* now = std::get_if<double>(&value);
  const auto* last = std::get_if<double>(&*last_value_);
  if (now != nullptr && last != nullptr) {
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
