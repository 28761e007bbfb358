#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "devices/serial/channel_filter.hpp"
#include "devices/serial/channel_spec.hpp"
#include "devices/serial/config_error.hpp"
#include "devices/serial/expected.hpp"
#include "devices/serial/field.hpp"

namespace fg::devices::serial {

struct ChannelCounters {
  std::uint64_t received = 0;   // raw values offered
  std::uint64_t published = 0;  // values that passed conversion and the filters
  std::uint64_t invalid = 0;    // conversion errors
  std::uint64_t unchanged = 0;  // dropped by change_only
  std::uint64_t too_soon = 0;   // dropped by min_interval
};

// One configured channel: conversion, then filters, with counters.
class Channel {
 public:
  static Expected<Channel, ConfigError> create(ChannelSpec spec);

  // The value to publish; or std::nullopt when a filter dropped it; or the conversion error. All three are
  // counted.
  Expected<std::optional<Value>, ConvertError> process(const Value& raw,
                                                       std::chrono::steady_clock::time_point now);

  const ChannelSpec& spec() const noexcept { return spec_; }
  const ChannelCounters& counters() const noexcept { return counters_; }
  void reset_filter() noexcept { filter_.reset(); }

 private:
  explicit Channel(ChannelSpec spec) : spec_(std::move(spec)), filter_(spec_.filter) {}

  ChannelSpec spec_;
  ChannelFilter filter_;
  ChannelCounters counters_;
};

}  // namespace fg::devices::serial
