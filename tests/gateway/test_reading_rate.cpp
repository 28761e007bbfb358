// ReadingRate: readings per minute over the last minute, from samples of the running total.

#include "gateway/reading_rate.hpp"

#include <gtest/gtest.h>

namespace fg::gateway {
namespace {

using namespace std::chrono_literals;

TEST(ReadingRate, NoRateBeforeTwoSamples) {
  ReadingRate rate;
  EXPECT_EQ(rate.per_minute(), 0);
  rate.sample(0ms, 10);
  EXPECT_EQ(rate.per_minute(), 0);
}

TEST(ReadingRate, BeforeAMinuteTheRateSinceTheFirstSample) {
  ReadingRate rate;
  rate.sample(0ms, 0);
  rate.sample(30s, 60);
  EXPECT_DOUBLE_EQ(rate.per_minute(), 120);
}

TEST(ReadingRate, AfterAMinuteOnlyTheLastMinuteCounts) {
  ReadingRate rate;
  rate.sample(0ms, 0);
  for (int s = 10; s <= 120; s += 10) {
    // 600 per minute for the first minute, then 60 per minute.
    rate.sample(std::chrono::seconds(s), s <= 60 ? static_cast<std::uint64_t>(s) * 10 : 600 + (s - 60));
  }
  EXPECT_DOUBLE_EQ(rate.per_minute(), 60);
}

TEST(ReadingRate, SamplesWithinASecondReplaceTheLast) {
  ReadingRate rate;
  rate.sample(0ms, 0);
  rate.sample(10s, 5);
  rate.sample(10s + 500ms, 10);  // the same second: the total moves, the window does not grow
  EXPECT_DOUBLE_EQ(rate.per_minute(), 60);
}

}  // namespace
}  // namespace fg::gateway
