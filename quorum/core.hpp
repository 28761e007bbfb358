#pragma once
// Core: the whole replication protocol of one member, free of I/O. It is driven by four calls, from the
// daemon's loop (Node) or from the deterministic simulation (tests/sim):
//
//   on_datagram()  a payload arrived from a member (already authenticated by the transport)
//   on_timer()     the time next_deadline() named has come: retransmissions, deadlines, heartbeats
//   read()/write() a user operation; the callback runs later, from end_of_step()
//   end_of_step()  after any of the above: commits what the replica stored (one fdatasync for the whole
//                  step: group commit), releases the replies that were waiting for it, runs completed
//                  operations' callbacks and sends what was queued, several messages per datagram.
//
// Messages to ourselves (the local replica is one of the members) never touch the network but follow
// the same path, including the wait for the commit.

#include <cstdint>
#include <expected>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "quorum/context.hpp"
#include "quorum/coordinator.hpp"
#include "quorum/peer_monitor.hpp"
#include "quorum/replica.hpp"
#include "quorum/restorer.hpp"
#include "quorum/storage.hpp"

namespace fg::quorum {

struct CoreConfig {
  NodeId self = 0;
  std::vector<NodeId> members;  // self included; 1, 3 or 5 of them
  std::uint64_t epoch = 0;      // this incarnation's boot epoch (persisted, never reused)
  std::size_t max_payload = 1356;
  CoordinatorOptions coordinator;
  PeerTiming peers;
  Millis restore_retry{200};
  // How long a replica without state waits before the pages it restores from count (restorer.hpp): a
  // 50% margin over coordinator.op_timeout, which every member of a site must share (docs/quorum.md).
  // Zero: derived from coordinator.op_timeout.
  Millis restore_hold{0};
};

struct CoreCounters {
  std::uint64_t datagrams_in = 0;
  std::uint64_t datagrams_out = 0;
  std::uint64_t malformed = 0;  // authenticated but not decodable: dropped whole
  std::uint64_t commits = 0;
  std::uint64_t commit_failures = 0;
};

class Core {
 public:
  // Called when the replica's state changes (restored, failed) with a line for the log.
  using StateChanged = std::function<void(ReplicaState, const std::string& why)>;

  // `recovered` and `initialized` are what the storage read back from disk.
  Core(CoreConfig config, Env& env, Storage& storage, Entries recovered, bool initialized,
       StateChanged state_changed = {});
  Core(const Core&) = delete;
  Core& operator=(const Core&) = delete;

  void on_datagram(NodeId from, std::uint64_t from_epoch, std::span<const std::uint8_t> payload);
  void on_timer();
  Millis next_deadline() const;
  void end_of_step();

  void read(std::string key, Coordinator::ReadDone done);
  void write(std::string key, std::string value, Coordinator::WriteDone done);

  ReplicaState state() const { return replica_.state(); }
  const Entries& entries() const { return replica_.entries(); }
  std::vector<PeerStatus> peers() const { return monitor_.status(); }
  const CoreCounters& counters() const { return counters_; }
  const CoordinatorCounters& coordinator_counters() const { return coordinator_.counters(); }
  std::size_t operations_in_flight() const { return coordinator_.in_flight(); }
  const CoreConfig& config() const { return config_; }
  const Restorer& restorer() const { return restorer_; }
  // Moves to a new, higher boot epoch (stored by the caller): tags and requests from now on carry it;
  // replies to requests sent under the old one are ignored and the requests are sent again.
  void advance_epoch(std::uint64_t epoch) {
    config_.epoch = epoch;
    context_.epoch = epoch;
  }

 private:
  struct PendingReply {
    NodeId to;
    Message reply;
  };

  void route(NodeId to, Message message);
  void dispatch(NodeId from, std::uint64_t from_epoch, const Message& message);
  void commit_and_release();
  void flush();
  void set_state_changed(ReplicaState state, const std::string& why);

  CoreConfig config_;
  Env& env_;
  Context context_;
  Replica replica_;
  Coordinator coordinator_;
  Restorer restorer_;
  PeerMonitor monitor_;
  StateChanged state_changed_;

  std::vector<PendingReply> awaiting_commit_;
  std::vector<Message> self_inbox_;
  std::vector<Coordinator::Completion> completions_;
  std::map<NodeId, std::vector<std::uint8_t>> outboxes_;
  CoreCounters counters_;
};

}  // namespace fg::quorum
