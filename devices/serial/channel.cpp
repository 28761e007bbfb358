#include "devices/serial/channel.hpp"

#include <cmath>
#include <utility>

namespace fg::devices::serial {

Expected<Channel, ConfigError> Channel::create(ChannelSpec spec) {
  if (spec.name.empty()) {
    return fail(ConfigError{"channel name must not be empty"});
  }
  if (!std::isfinite(spec.scale) || !std::isfinite(spec.offset)) {
    return fail(ConfigError{"channel scale and offset must be finite numbers"});
  }
  if (!std::isfinite(spec.filter.deadband) || spec.filter.deadband < 0) {
    return fail(ConfigError{"channel deadband must be a finite number, 0 or more"});
  }
  if (spec.filter.min_interval.count() < 0) {
    return fail(ConfigError{"channel minimum interval must not be negative"});
  }
  return Channel(std::move(spec));
}

Expected<std::optional<Value>, ConvertError> Channel::process(const Value& raw,
                                                              std::chrono::steady_clock::time_point now) {
  ++counters_.received;
  auto converted = convert(spec_, raw);
  if (!converted) {
    ++counters_.invalid;
    return fail(converted.error());
  }
  switch (filter_.offer(*converted, now)) {
    case FilterVerdict::unchanged:
      ++counters_.unchanged;
      return std::optional<Value>();
    case FilterVerdict::too_soon:
      ++counters_.too_soon;
      return std::optional<Value>();
    case FilterVerdict::publish:
      break;
  }
  ++counters_.published;
  return std::optional<Value>(std::move(*converted));
}

}  // namespace fg::devices::serial
