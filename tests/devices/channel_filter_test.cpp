// ChannelFilter: change-only with deadband, and minimum interval, on made-up times.

#include "devices/serial/channel_filter.hpp"

#include <gtest/gtest.h>

#include <cstdint>

#include <chrono>
#include <string>

namespace fg::devices::serial::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const Clock::time_point t0{};  // a fixed epoch: the filter never reads the clock

Value number(double d) {
  return Value(std::in_place_type<double>, d);
}
Value text(std::string_view s) {
  return Value(std::in_place_type<std::string>, s);
}

TEST(ChannelFilter, NoFilterPublishesEverything) {
  ChannelFilter filter({});
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(filter.offer(number(1), t0), FilterVerdict::publish);
  }
}

TEST(ChannelFilter, ChangeOnlyExact) {
  ChannelFilter filter({.change_only = true});
  EXPECT_EQ(filter.offer(number(21.5), t0), FilterVerdict::publish);  // the first is always published
  EXPECT_EQ(filter.offer(number(21.5), t0 + 1s), FilterVerdict::unchanged);
  EXPECT_EQ(filter.offer(number(21.6), t0 + 2s), FilterVerdict::publish);
  EXPECT_EQ(filter.offer(number(21.5), t0 + 3s), FilterVerdict::publish);
}

TEST(ChannelFilter, DeadbandAgainstLastPublishedNotLastSeen) {
  ChannelFilter filter({.change_only = true, .deadband = 0.5});
  EXPECT_EQ(filter.offer(number(20.0), t0), FilterVerdict::publish);
  EXPECT_EQ(filter.offer(number(20.5), t0), FilterVerdict::unchanged);  // exactly the deadband: not more
  EXPECT_EQ(filter.offer(number(19.75), t0), FilterVerdict::unchanged);
  // A slow drift in steps smaller than the deadband is published once it adds up.
  EXPECT_EQ(filter.offer(number(20.25), t0), FilterVerdict::unchanged);
  EXPECT_EQ(filter.offer(number(20.5), t0), FilterVerdict::unchanged);
  EXPECT_EQ(filter.offer(number(20.75), t0), FilterVerdict::publish);
  EXPECT_EQ(filter.offer(number(20.25), t0), FilterVerdict::unchanged);  // 0.5 below 20.75
  EXPECT_EQ(filter.offer(number(20.0), t0), FilterVerdict::publish);
}

TEST(ChannelFilter, ChangeOnlyForTextAndBooleansAndKindChanges) {
  ChannelFilter filter({.change_only = true, .deadband = 10});
  EXPECT_EQ(filter.offer(text("open"), t0), FilterVerdict::publish);
  EXPECT_EQ(filter.offer(text("open"), t0), FilterVerdict::unchanged);
  EXPECT_EQ(filter.offer(text("closed"), t0), FilterVerdict::publish);
  EXPECT_EQ(filter.offer(Value(std::in_place_type<bool>, true), t0), FilterVerdict::publish);
  EXPECT_EQ(filter.offer(Value(std::in_place_type<bool>, true), t0), FilterVerdict::unchanged);
  EXPECT_EQ(filter.offer(number(1), t0), FilterVerdict::publish);
}

TEST(ChannelFilter, ChangeOnlyComparesIntegersExactly) {
  ChannelFilter filter({.change_only = true});
  const auto integer = [](std::int64_t i) { return Value(std::in_place_type<std::int64_t>, i); };
  EXPECT_EQ(filter.offer(integer(9007199254740992), t0), FilterVerdict::publish);
  EXPECT_EQ(filter.offer(integer(9007199254740993), t0), FilterVerdict::publish) << "equal as doubles only";
  EXPECT_EQ(filter.offer(integer(9007199254740993), t0), FilterVerdict::unchanged);
  EXPECT_EQ(filter.offer(number(9007199254740992.0), t0), FilterVerdict::unchanged)
      << "numbers compare as numbers";
}

TEST(ChannelFilter, MinimumInterval) {
  ChannelFilter filter({.min_interval = 10s});
  EXPECT_EQ(filter.offer(number(1), t0), FilterVerdict::publish);
  EXPECT_EQ(filter.offer(number(2), t0 + 9999ms), FilterVerdict::too_soon);
  EXPECT_EQ(filter.offer(number(3), t0 + 10s), FilterVerdict::publish);  // exactly the interval is enough
  // Measured from the last published reading, not the last dropped one.
  EXPECT_EQ(filter.offer(number(4), t0 + 15s), FilterVerdict::too_soon);
  EXPECT_EQ(filter.offer(number(5), t0 + 19s), FilterVerdict::too_soon);
  EXPECT_EQ(filter.offer(number(6), t0 + 20s), FilterVerdict::publish);
  // A time before the last (impossible on a steady clock) is treated as too soon.
  EXPECT_EQ(filter.offer(number(7), t0), FilterVerdict::too_soon);
}

TEST(ChannelFilter, BothFiltersChangeCheckedFirst) {
  ChannelFilter filter({.change_only = true, .deadband = 0, .min_interval = 5s});
  EXPECT_EQ(filter.offer(number(1), t0), FilterVerdict::publish);
  EXPECT_EQ(filter.offer(number(1), t0 + 1s), FilterVerdict::unchanged);
  EXPECT_EQ(filter.offer(number(2), t0 + 1s), FilterVerdict::too_soon);
  EXPECT_EQ(filter.offer(number(1), t0 + 6s), FilterVerdict::unchanged);  // still equals the last published
  EXPECT_EQ(filter.offer(number(2), t0 + 6s), FilterVerdict::publish);
}

TEST(ChannelFilter, ResetPublishesTheNextValue) {
  ChannelFilter filter({.change_only = true, .min_interval = 1h});
  EXPECT_EQ(filter.offer(number(1), t0), FilterVerdict::publish);
  EXPECT_EQ(filter.offer(number(1), t0 + 1s), FilterVerdict::unchanged);
  filter.reset();
  EXPECT_EQ(filter.offer(number(1), t0 + 2s), FilterVerdict::publish);
}

}  // namespace
}  // namespace fg::devices::serial::test
