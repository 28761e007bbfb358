#include "mqtt/outbox.hpp"

#include <utility>

namespace fg::mqtt {

std::size_t Outbox::push(Publication message) {
  if (limit_ == 0) {
    return 1;
  }
  std::size_t dropped = 0;
  if (messages_.size() >= limit_) {
    messages_.pop_front();
    dropped = 1;
  }
  messages_.push_back(std::move(message));
  return dropped;
}

std::size_t Outbox::push_front(Publication message) {
  // The message put back is older than everything queued, so when there is no room it is the one
  // that goes.
  if (messages_.size() >= limit_) {
    return 1;
  }
  messages_.push_front(std::move(message));
  return 0;
}

std::optional<Publication> Outbox::pop() {
  if (messages_.empty()) {
    return std::nullopt;
  }
  auto message = std::move(messages_.front());
  messages_.pop_front();
  return message;
}

void Outbox::sent(int) {
  if (!messages_.empty()) {
    messages_.pop_front();
  }
}

QosCounts Outbox::discard() {
  QosCounts counts;
  for (const auto& message : messages_) {
    counts.add(message.qos);
  }
  messages_.clear();
  return counts;
}

std::size_t Outbox::clear() noexcept {
  auto n = messages_.size();
  messages_.clear();
  return n;
}

}  // namespace fg::mqtt
