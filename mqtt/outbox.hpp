#pragma once
// Outbox: the in-memory PublishQueue. It keeps the messages published while the session cannot send
// them, in publish order, and forgets a message once libmosquitto has it (libmosquitto itself keeps QoS
// 1 / 2 messages until acknowledged and resends them after a reconnect). It is bounded by a message
// count: when full, the oldest message is dropped to make room (the newest readings are worth more than
// the oldest), and the drop is reported so the session can count it.
//
// Known limits: it lives in memory only (a process restart loses it), and the bound counts messages,
// not bytes, so a few huge payloads can use more memory than the count suggests.

#include <cstddef>
#include <deque>
#include <optional>

#include "mqtt/message.hpp"
#include "mqtt/publish_queue.hpp"

namespace fg::mqtt {

class Outbox final : public PublishQueue {
 public:
  // A limit of 0 keeps nothing: every message is dropped at once.
  explicit Outbox(std::size_t limit) noexcept : limit_(limit) {}

  // PublishQueue. push() returns the number of messages dropped to make room (0 or 1).
  std::size_t push(Publication message) override;
  const Publication* front() const override { return messages_.empty() ? nullptr : &messages_.front(); }
  void sent(int mid) override;
  // Nothing to remember: libmosquitto holds what it was given until the broker acknowledges it.
  void track(const Publication&, int) override {}
  void acknowledged(int) override {}
  void connection_lost() override {}
  QosCounts discard() override;
  std::size_t size() const noexcept override { return messages_.size(); }

  // Puts back a message taken with pop() that could not be sent, so it stays first in line.
  // Returns 1 if the outbox was full and the message was dropped instead.
  std::size_t push_front(Publication message);
  // Takes the oldest message, if any.
  std::optional<Publication> pop();
  // Empties the outbox; returns how many messages it held.
  std::size_t clear() noexcept;

  std::size_t limit() const noexcept { return limit_; }

 private:
  std::size_t limit_;
  std::deque<Publication> messages_;
};

}  // namespace fg::mqtt
