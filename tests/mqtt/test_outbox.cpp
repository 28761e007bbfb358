#include "mqtt/outbox.hpp"

#include <gtest/gtest.h>

#include <string>

namespace fg::mqtt {
namespace {

Publication message(int n) {
  return {"t/" + std::to_string(n), std::to_string(n), Qos::at_least_once, false};
}

TEST(MqttOutbox, KeepsPublishOrder) {
  Outbox outbox(10);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(outbox.push(message(i)), 0u);
  }
  EXPECT_EQ(outbox.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    auto m = outbox.pop();
    ASSERT_TRUE(m);
    EXPECT_EQ(m->payload, std::to_string(i));
  }
  EXPECT_FALSE(outbox.pop());
}

TEST(MqttOutbox, WhenFullDropsTheOldest) {
  Outbox outbox(3);
  std::size_t dropped = 0;
  for (int i = 0; i < 10; ++i) {
    dropped += outbox.push(message(i));
  }
  EXPECT_EQ(dropped, 7u);
  EXPECT_EQ(outbox.size(), 3u);
  EXPECT_EQ(outbox.pop()->payload, "7");
  EXPECT_EQ(outbox.pop()->payload, "8");
  EXPECT_EQ(outbox.pop()->payload, "9");
}

TEST(MqttOutbox, PushFrontPutsAMessageBackFirstInLine) {
  Outbox outbox(3);
  outbox.push(message(1));
  outbox.push(message(2));
  auto first = outbox.pop();
  EXPECT_EQ(outbox.push_front(std::move(*first)), 0u);
  EXPECT_EQ(outbox.pop()->payload, "1");
  EXPECT_EQ(outbox.pop()->payload, "2");
}

TEST(MqttOutbox, PushFrontIntoAFullOutboxDropsThatMessage) {
  Outbox outbox(1);
  outbox.push(message(2));
  EXPECT_EQ(outbox.push_front(message(1)), 1u);
  EXPECT_EQ(outbox.pop()->payload, "2");
}

TEST(MqttOutbox, LimitZeroKeepsNothing) {
  Outbox outbox(0);
  EXPECT_EQ(outbox.push(message(1)), 1u);
  EXPECT_TRUE(outbox.empty());
}

TEST(MqttOutbox, ClearReportsHowManyWereHeld) {
  Outbox outbox(5);
  outbox.push(message(1));
  outbox.push(message(2));
  EXPECT_EQ(outbox.clear(), 2u);
  EXPECT_TRUE(outbox.empty());
}

}  // namespace
}  // namespace fg::mqtt
