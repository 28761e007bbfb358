#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "devices/serial/field.hpp"

namespace fg::devices::serial {

struct FilterSpec {
  // Publish a value only if it differs from the last one published.
  bool change_only = false;
  // With change_only, numbers must differ by more than this from the last published value. Compared with the
  // last value published, not the last seen, so a slow drift is published once it adds up.
  double deadband = 0.0;
  // Drop a value that comes sooner than this after the last one published.
  std::chrono::steady_clock::duration min_interval{0};

  bool operator==(const FilterSpec&) const = default;
};

enum class FilterVerdict : std::uint8_t { publish, unchanged, too_soon };

// Decides which converted values of one channel are published. The time of each value is passed in and the
// clock is never read here, so tests can drive it.
//
// Known limit: min_interval drops, it does not delay: the last value of a burst is lost until the channel
// next reports, rather than published when the interval ends.
class ChannelFilter {
 public:
  explicit ChannelFilter(FilterSpec spec) : spec_(spec) {}

  // Returns publish (and remembers value and now as the last published), or why not. The change check
  // comes first: a value both unchanged and too soon counts as unchanged.
  FilterVerdict offer(const Value& value, std::chrono::steady_clock::time_point now);

  // Forgets the last published value, so the next one is published; for instance after the device came back.
  void reset() noexcept;

  const FilterSpec& spec() const noexcept { return spec_; }

 private:
  bool changed(const Value& value) const;

  FilterSpec spec_;
  std::optional<Value> last_value_;
  std::chrono::steady_clock::time_point last_time_{};
};

}  // namespace fg::devices::serial
