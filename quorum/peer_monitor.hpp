#pragma once
// PeerMonitor: heartbeats between members, and what `fieldgate status` shows about each peer.
// A ping carries the sender's replica state and its monotonic send time as a nonce; the pong echoes the
// nonce, which gives a round-trip time without synchronised clocks. Any datagram from a peer counts as
// hearing from it; a peer not heard from for `down_after` is shown down.

#include <cstdint>
#include <optional>
#include <vector>

#include "quorum/context.hpp"

namespace fg::quorum {

struct PeerTiming {
  Millis interval{1000};
  Millis down_after{3500};
};

struct PeerStatus {
  NodeId node = 0;
  bool up = false;
  ReplicaState state = ReplicaState::restoring;  // as last announced
  std::optional<Millis> round_trip;              // smoothed
  std::optional<Millis> last_heard_ago;
};

class PeerMonitor {
 public:
  PeerMonitor(const Context& context, PeerTiming timing);

  void heard_from(NodeId from);
  // Answers a ping with a pong announcing our `state`.
  void on_ping(NodeId from, const Message& ping, ReplicaState state);
  void on_pong(NodeId from, const Message& pong);
  void on_timer(ReplicaState state);
  Millis next_deadline() const { return next_ping_; }

  std::vector<PeerStatus> status() const;

 private:
  struct Peer {
    std::optional<Millis> last_heard;
    std::optional<double> smoothed_rtt_ms;
    ReplicaState state = ReplicaState::restoring;
  };

  const Context& context_;
  PeerTiming timing_;
  std::vector<Peer> peers_;  // by member index
  Millis next_ping_{0};
};

}  // namespace fg::quorum
