#pragma once
// Env: everything the protocol core needs from the outside world, and nothing more. The daemon's Node
// implements it with the libuv loop and the UDP transport; the deterministic simulation in tests/sim with
// a simulated clock and network. The core never reads a clock or touches a socket by itself, which is
// what lets the same code run unchanged in both.

#include <chrono>
#include <cstdint>
#include <span>

#include "quorum/tag.hpp"

namespace fg::quorum {

using Millis = std::chrono::milliseconds;

class Env {
 public:
  virtual ~Env() = default;
  // Monotonic time; never the wall clock.
  virtual Millis now() const = 0;
  // Sends one datagram payload (at most CoreConfig::max_payload bytes) to a peer; fair-loss: it may be
  // lost, duplicated, delayed or reordered.
  virtual void send(NodeId to, std::span<const std::uint8_t> payload) = 0;
};

}  // namespace fg::quorum
