#pragma once
// Context: what the parts of the core (replica, coordinator, restorer, peer monitor) share: who we are,
// who the members are, the clock, and the one way to send a message (Core routes it: to a peer's outbox,
// or to the local replica without touching the network).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "quorum/env.hpp"
#include "quorum/message.hpp"

namespace fg::quorum {

struct Context {
  NodeId self = 0;
  std::uint64_t epoch = 0;
  std::vector<NodeId> members;  // every replica of the site, self included, sorted
  std::function<Millis()> now;
  std::function<void(NodeId to, Message message)> send;

  std::size_t majority() const { return members.size() / 2 + 1; }
  std::size_t index_of(NodeId node) const {
    for (std::size_t i = 0; i < members.size(); ++i) {
      if (members[i] == node) {
        return i;
      }
    }
    return members.size();
  }
  bool is_member(NodeId node) const { return index_of(node) < members.size(); }
};

}  // namespace fg::quorum
