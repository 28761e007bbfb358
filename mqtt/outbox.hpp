#pragma once
// Outbox: the messages published while the session is not connected, kept in memory in publish order
// and sent after the next successful connect. It is bounded by a message count: when full, the oldest
// message is dropped to make room (the newest readings are worth more than the oldest), and the drop is
// reported so the session can count it.
//
// Known limits: it lives in memory only (a process restart loses it), and the bound counts messages,
// not bytes, so a few huge payloads can use more memory than the count suggests.

#include <cstddef>
#include <deque>
#include <optional>

#include "mqtt/message.hpp"

namespace fg::mqtt {

class Outbox {
 public:
  // A limit of 0 keeps nothing: every message is dropped at once.
  explicit Outbox(std::size_t limit) noexcept : limit_(limit) {}

  // Appends `message`. Returns the number of messages dropped to make room (0 or 1).
  std::size_t push(Publication message);
  // Puts back a message taken with pop() that could not be sent, so it stays first in line.
  // Returns 1 if the outbox was full and the message was dropped instead.
  std::size_t push_front(Publication message);
  // Takes the oldest message, if any.
  std::optional<Publication> pop();
  // Empties the outbox; returns how many messages it held.
  std::size_t clear() noexcept;

  std::size_t size() const noexcept { return messages_.size(); }
  bool empty() const noexcept { return messages_.empty(); }
  std::size_t limit() const noexcept { return limit_; }

 private:
  std::size_t limit_;
  std::deque<Publication> messages_;
};

}  // namespace fg::mqtt
