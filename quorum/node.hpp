#pragma once
// Node: one member of the site's replicated register, running on the loop. It puts the protocol core
// (core.hpp) together with its real parts: the state directory (PosixDisk + ReplicaLog), the boot epoch,
// the authenticated UDP transport, a timer for the core's deadlines, and prepare/check hooks that end each
// loop iteration's step (one fdatasync for everything stored in that iteration, then the replies and
// the queued messages go out).
//
// Known limit: fdatasync runs on the loop's thread, so the loop stalls for its duration (about 1-10 ms on
// an SD card, measured in docs/benchmarks.md); the group commit keeps that to once per iteration however
// many stores arrived. Moving it to a thread would hide blocking I/O behind the loop, which DESIGN.md
// rules out.

#include <sys/socket.h>

#include <expected>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "loop/iteration_hook.hpp"
#include "loop/loop.hpp"
#include "loop/timer.hpp"
#include "quorum/core.hpp"
#include "quorum/log_storage.hpp"
#include "quorum/site_key.hpp"
#include "quorum/udp_transport.hpp"
#include "storage/posix_disk.hpp"

namespace fg::quorum {

struct NodeOptions {
  NodeId self = 0;
  sockaddr_storage listen{};
  std::vector<PeerEndpoint> peers;  // the other members
  std::filesystem::path state_dir;
  bool fsync = true;  // false only for benchmarks: see PosixDiskOptions
  CoordinatorOptions coordinator;
  PeerTiming peer_timing;
  std::vector<NodeId> blocked_peers;   // fault injection: see UdpTransport::set_blocked_peers
  UdpTransport::LargeDrop large_drop;  // fault injection: see UdpTransport::set_large_drop
};

enum class NodeLogLevel { error, warning, info, debug };
using NodeLog = std::function<void(NodeLogLevel, const std::string&)>;

class Node final : public Env {
 public:
  // Opens the state directory (refusing one another process holds), takes the next boot epoch, recovers
  // the replica's state and binds the socket. The error text names what failed and where.
  static std::expected<std::unique_ptr<Node>, std::string> open(loop::Loop& loop, const SiteKey& key,
                                                                NodeOptions options, NodeLog log);
  ~Node() override;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  void read(std::string key, Coordinator::ReadDone done);
  void write(std::string key, std::string value, Coordinator::WriteDone done);

  // Runs `callback` once the local replica serves (at once, from the next step, if it already does):
  // a replica that lost its state restores it from a quorum first.
  void on_serving(std::function<void()> callback);

  ReplicaState state() const { return core_->state(); }
  std::vector<PeerStatus> peers() const { return core_->peers(); }
  const Core& core() const { return *core_; }
  TransportCounters transport_counters() const { return transport_.counters(); }
  // Datagrams of `peer` dropped as replays (an older boot epoch of it, or seen already).
  std::uint64_t replayed_from(NodeId peer) const { return transport_.replayed_from(peer); }
  std::uint64_t epoch() const { return core_->config().epoch; }
  std::size_t keys() const { return core_->entries().size(); }
  std::expected<sockaddr_storage, std::error_code> local_address() const {
    return transport_.local_address();
  }

  void set_blocked_peers(std::vector<NodeId> peers) { transport_.set_blocked_peers(std::move(peers)); }
  bool set_peer_address(NodeId id, const sockaddr_storage& address) {
    return transport_.set_peer_address(id, address);
  }

  // Closes the socket, timer and check handle; operations in flight are dropped without a callback.
  void close();

 private:
  Node(loop::Loop& loop, const SiteKey& key, const NodeOptions& options, std::uint64_t epoch,
       std::unique_ptr<storage::PosixDisk> disk, OpenedReplicaLog opened, NodeLog log);

  Millis now() const override { return loop_.now(); }
  void send(NodeId to, std::span<const std::uint8_t> payload) override { transport_.send(to, payload); }

  void touched() { pending_step_ = true; }
  void end_step();
  void on_state_changed(ReplicaState state, const std::string& why);
  void on_epoch_behind(NodeId peer, std::uint64_t seen);

  loop::Loop& loop_;
  NodeLog log_;
  std::unique_ptr<storage::PosixDisk> disk_;  // on the heap: the log points at it; holds the directory's lock
  std::unique_ptr<LogStorage> storage_;
  UdpTransport transport_;
  std::unique_ptr<Core> core_;
  loop::Timer timer_;
  loop::Prepare prepare_;  // ends a step a timer started, before the loop blocks
  loop::Check check_;      // ends a step the datagrams and calls of this iteration started
  bool pending_step_ = true;
  Millis armed_for_ = Millis::max();
  std::vector<std::function<void()>> serving_callbacks_;
};

}  // namespace fg::quorum
