#include "quorum/replica.hpp"

#include "quorum/wire.hpp"

namespace fg::quorum {

Replica::Replica(Storage& storage, Entries entries, bool initialized, std::size_t max_payload)
    : storage_(storage),
      entries_(std::move(entries)),
      state_(initialized ? ReplicaState::serving : ReplicaState::restoring),
      max_payload_(max_payload) {}

std::optional<Message> Replica::handle(const Message& request) {
  if (request.type == MessageType::sync_request) {
    if (state_ == ReplicaState::failed) {
      return std::nullopt;
    }
    return sync_page(request);
  }
  if (state_ != ReplicaState::serving) {
    return std::nullopt;
  }
  Message reply;
  reply.request = request.request;
  reply.key = request.key;
  auto held = entries_.find(request.key);
  switch (request.type) {
    case MessageType::query_tag:
      reply.type = MessageType::tag_reply;
      if (held != entries_.end()) {
        reply.versioned.tag = held->second.tag;
      }
      return reply;
    case MessageType::query_value:
      reply.type = MessageType::value_reply;
      if (held != entries_.end()) {
        reply.versioned = held->second;
      }
      return reply;
    case MessageType::store:
      reply.type = MessageType::store_ack;
      if (held == entries_.end() || held->second.tag < request.versioned.tag) {
        if (storage_.append(request.key, request.versioned)) {
          fail();
          return std::nullopt;
        }
        entries_.insert_or_assign(request.key, request.versioned);
        appended_ = true;
        ++stores_applied_;
      }
      // An older or equal tag is acknowledged too: the replica holds that write or a newer one, which
      // is what the writer needs to know.
      return reply;
    default:
      return std::nullopt;
  }
}

Message Replica::sync_page(const Message& request) const {
  Message reply;
  reply.type = MessageType::sync_reply;
  reply.request = request.request;
  reply.initialized = state_ == ReplicaState::serving;
  reply.last_page = true;
  if (!reply.initialized) {
    return reply;
  }
  // Entries strictly after the requested key, as many as fit in one datagram: each page stands alone,
  // so a lost page is simply asked for again.
  std::size_t size = 1 + encoded_size(reply);
  Message probe;
  probe.type = MessageType::sync_reply;
  const std::size_t empty_page = encoded_size(probe);
  for (auto it = entries_.upper_bound(request.key); it != entries_.end(); ++it) {
    Entry entry{it->first, it->second};
    probe.entries.assign(1, entry);
    std::size_t entry_bytes = encoded_size(probe) - empty_page;
    if (size + entry_bytes > max_payload_ || reply.entries.size() == 0xffff) {
      reply.last_page = false;
      break;
    }
    size += entry_bytes;
    reply.entries.push_back(std::move(entry));
  }
  return reply;
}

std::error_code Replica::commit() {
  if (!appended_) {
    return {};
  }
  appended_ = false;
  if (auto error = storage_.commit()) {
    fail();
    return error;
  }
  if (auto error = storage_.maybe_compact(entries_)) {
    fail();
    return error;
  }
  return {};
}

std::error_code Replica::restored(Entries entries) {
  if (auto error = storage_.initialize(entries)) {
    fail();
    return error;
  }
  entries_ = std::move(entries);
  state_ = ReplicaState::serving;
  return {};
}

}  // namespace fg::quorum
