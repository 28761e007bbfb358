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

// The Outbox through the PublishQueue interface the session publishes from.
namespace queue_interface {

TEST(MqttOutboxAsPublishQueue, FrontAndSentTakeMessagesInOrder) {
  Outbox outbox(10);
  PublishQueue& queue = outbox;
  EXPECT_EQ(queue.front(), nullptr);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(queue.push(message(i)), 0u);
  }
  for (int i = 0; i < 3; ++i) {
    ASSERT_NE(queue.front(), nullptr);
    EXPECT_EQ(queue.front()->payload, std::to_string(i));
    queue.sent(i + 1);
  }
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.front(), nullptr);
  queue.sent(0);  // nothing to take: harmless
  EXPECT_EQ(queue.size(), 0u);
}

TEST(MqttOutboxAsPublishQueue, AcknowledgementsAndLossesLeaveWaitingMessagesAlone) {
  Outbox outbox(10);
  PublishQueue& queue = outbox;
  queue.track(message(0), 7);
  EXPECT_EQ(queue.size(), 0u) << "a message sent at once never waits in memory";
  queue.push(message(1));
  queue.acknowledged(7);
  queue.connection_lost();
  ASSERT_EQ(queue.size(), 1u);
  EXPECT_EQ(queue.front()->payload, "1");
}

TEST(MqttOutboxAsPublishQueue, DiscardCountsByQos) {
  Outbox outbox(10);
  PublishQueue& queue = outbox;
  queue.push({"t", "a", Qos::at_most_once, false});
  queue.push({"t", "b", Qos::at_least_once, false});
  queue.push({"t", "c", Qos::at_least_once, false});
  queue.push({"t", "d", Qos::exactly_once, false});
  auto counts = queue.discard();
  EXPECT_EQ(counts.qos0, 1u);
  EXPECT_EQ(counts.qos1, 2u);
  EXPECT_EQ(counts.qos2, 1u);
  EXPECT_EQ(counts.total(), 4u);
  EXPECT_TRUE(queue.empty());
}

}  // namespace queue_interface

}  // namespace
}  // namespace fg::mqtt
