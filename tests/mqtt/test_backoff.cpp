#include "mqtt/backoff.hpp"

#include <gtest/gtest.h>

namespace fg::mqtt {
namespace {

using namespace std::chrono_literals;

TEST(MqttBackoff, BaseDoublesFromInitialAndStopsAtTheCap) {
  Backoff backoff(500ms, 30s, 1);
  EXPECT_EQ(backoff.base(0), 500ms);
  EXPECT_EQ(backoff.base(1), 1000ms);
  EXPECT_EQ(backoff.base(2), 2000ms);
  EXPECT_EQ(backoff.base(5), 16000ms);
  EXPECT_EQ(backoff.base(6), 30s);
  EXPECT_EQ(backoff.base(1000), 30s) << "no overflow for huge failure counts";
}

TEST(MqttBackoff, EachDelayIsJitteredWithinTheUpperHalfOfItsBase) {
  Backoff backoff(500ms, 30s, 42);
  for (unsigned i = 0; i < 20; ++i) {
    auto top = backoff.base(i);
    auto delay = backoff.next();
    EXPECT_GE(delay, top / 2) << "attempt " << i;
    EXPECT_LE(delay, top) << "attempt " << i;
  }
  EXPECT_EQ(backoff.failures(), 20u);
}

TEST(MqttBackoff, JitterSpreadsDelaysOfTheSameStep) {
  Backoff a(1000ms, 30s, 1), b(1000ms, 30s, 2);
  int differ = 0;
  for (int i = 0; i < 10; ++i) {
    differ += a.next() != b.next() ? 1 : 0;
  }
  EXPECT_GE(differ, 5) << "two gateways with different seeds should not retry in lockstep";
}

TEST(MqttBackoff, SameSeedGivesTheSameDelays) {
  Backoff a(500ms, 30s, 7), b(500ms, 30s, 7);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(a.next(), b.next());
  }
}

TEST(MqttBackoff, ResetStartsAgainFromInitial) {
  Backoff backoff(100ms, 10s, 3);
  for (int i = 0; i < 8; ++i) {
    backoff.next();
  }
  EXPECT_GT(backoff.next(), 2s);
  backoff.reset();
  EXPECT_EQ(backoff.failures(), 0u);
  auto delay = backoff.next();
  EXPECT_GE(delay, 50ms);
  EXPECT_LE(delay, 100ms);
}

TEST(MqttBackoff, InitialEqualToMaxStaysPut) {
  Backoff backoff(200ms, 200ms, 9);
  for (int i = 0; i < 5; ++i) {
    auto delay = backoff.next();
    EXPECT_GE(delay, 100ms);
    EXPECT_LE(delay, 200ms);
  }
}

}  // namespace
}  // namespace fg::mqtt
