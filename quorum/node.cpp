#include "quorum/node.hpp"

#include <chrono>

#include "loop/clock_watch.hpp"
#include "quorum/boot_epoch.hpp"
#include "quorum/endpoint.hpp"
#include "storage/error.hpp"

namespace fg::quorum {
namespace {

// The floor of a new disk's first boot epoch (see boot_epoch.hpp): the wall clock in milliseconds. A Pi
// has no battery-backed clock; until NTP or fake-hwclock sets it, it says 1970, and an epoch taken from
// that would be below the lost disk's and rejected by every peer as a replay. So a clock before the
// floor (loop/clock_watch.hpp: 2026, or the tests' hook) counts as unset. The gateway opens a Node only
// once the clock is plausible (a ClockWatch); this refusal stays as the last guard for other callers.
std::expected<std::uint64_t, std::string> new_disk_epoch_floor() {
  using namespace std::chrono;
  if (!loop::wall_clock_plausible()) {
    return std::unexpected(
        "the wall clock is not set (it says before " +
        std::to_string(duration_cast<milliseconds>(loop::wall_clock_floor().time_since_epoch()).count()) +
        " ms since 1970); a new state directory takes its first boot epoch from it: open it once the "
        "clock is set");
  }
  auto ms = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  return static_cast<std::uint64_t>(ms);
}

}  // namespace

std::expected<std::unique_ptr<Node>, std::string> Node::open(loop::Loop& loop, const SiteKey& key,
                                                             NodeOptions options, NodeLog log) {
  const auto& dir = options.state_dir;
  // Two daemons on one state directory would interleave their logs and reuse each other's epochs: the
  // disk's lock, held for the process's life, makes the second one refuse to start.
  auto disk = storage::PosixDisk::open(dir, {.sync_enabled = options.fsync, .exclusive = true});
  if (!disk && disk.error() == storage::StorageError::in_use) {
    return std::unexpected(dir.string() + ": the state directory is in use by another fieldgate");
  }
  if (!disk) {
    return std::unexpected(dir.string() + ": cannot open the state directory: " + disk.error().message());
  }
  auto heap_disk = std::make_unique<storage::PosixDisk>(std::move(*disk));
  bool new_disk = !heap_disk->read("epoch").has_value();
  auto floor = new_disk ? new_disk_epoch_floor() : std::expected<std::uint64_t, std::string>(1);
  if (!floor) {
    return std::unexpected(dir.string() + ": " + floor.error());
  }
  auto epoch = next_boot_epoch(*heap_disk, *floor);
  if (!epoch) {
    return std::unexpected(dir.string() + ": cannot take the next boot epoch: " + epoch.error().message());
  }
  auto opened = open_replica_log(*heap_disk);
  if (!opened) {
    return std::unexpected(dir.string() + ": cannot open the replica's state: " + opened.error().message());
  }
  if (opened->recovered.empty_directory) {
    // Normal for every member of a new site; a lost disk shows once the peers answer (on_state_changed).
    log(NodeLogLevel::info, dir.string() +
                                ": empty state directory: a new site, or a lost disk; it asks "
                                "its peers before it serves");
  }
  for (const auto& problem : opened->recovered.problems) {
    log(opened->recovered.corruption ? NodeLogLevel::error : NodeLogLevel::warning,
        dir.string() + ": " + problem);
  }
  if (opened->recovered.converted_from != 0) {
    log(NodeLogLevel::info, dir.string() + ": state files converted from format version " +
                                std::to_string(opened->recovered.converted_from) + " to " +
                                std::to_string(disk_format::kVersion));
  }
  std::unique_ptr<Node> node(
      new Node(loop, key, options, *epoch, std::move(heap_disk), std::move(*opened), std::move(log)));
  if (auto error = node->transport_.bind(*reinterpret_cast<const sockaddr*>(&options.listen))) {
    std::string where = format_endpoint(options.listen);
    node->close();
    return std::unexpected("cannot listen on " + where + ": " + error.message());
  }
  return node;
}

Node::Node(loop::Loop& loop, const SiteKey& key, const NodeOptions& options, std::uint64_t epoch,
           std::unique_ptr<storage::PosixDisk> disk, OpenedReplicaLog opened, NodeLog log)
    : loop_(loop),
      log_(std::move(log)),
      disk_(std::move(disk)),
      storage_(std::make_unique<LogStorage>(std::move(opened.log))),
      transport_(loop, key, options.self, epoch, options.peers),
      timer_(loop),
      prepare_(loop),
      check_(loop) {
  CoreConfig config;
  config.self = options.self;
  config.members.push_back(options.self);
  for (const auto& peer : options.peers) {
    config.members.push_back(peer.id);
  }
  config.epoch = epoch;
  config.max_payload = UdpTransport::max_payload();
  config.coordinator = options.coordinator;
  config.peers = options.peer_timing;
  bool initialized = opened.recovered.initialized;
  core_ = std::make_unique<Core>(
      config, *this, *storage_, std::move(opened.recovered.entries), initialized,
      [this](ReplicaState state, const std::string& why) { on_state_changed(state, why); });
  log_(NodeLogLevel::info, "replica " + std::to_string(options.self) + " started, boot epoch " +
                               std::to_string(epoch) + ", " + std::to_string(core_->entries().size()) +
                               " keys" + (initialized ? "" : "; restoring its state from the other members"));
  transport_.set_blocked_peers(options.blocked_peers);
  transport_.set_large_drop(options.large_drop);
  transport_.on_epoch_behind([this](NodeId peer, std::uint64_t seen) { on_epoch_behind(peer, seen); });
  transport_.on_receive([this](NodeId from, std::uint64_t from_epoch, std::span<const std::uint8_t> payload) {
    // The core compares replies with its deadlines by now(): take the time anew, since this process may
    // have been stopped (SIGSTOP) between the loop's clock update and this datagram (coordinator.cpp).
    uv_update_time(loop_.raw());
    core_->on_datagram(from, from_epoch, payload);
    touched();
  });
  auto end_pending_step = [this] {
    if (pending_step_) {
      end_step();
    }
  };
  prepare_.start(end_pending_step);
  check_.start(end_pending_step);
  timer_.start(Millis(0), [this] {
    armed_for_ = Millis::max();
    core_->on_timer();
    touched();
  });
}

Node::~Node() {
  close();
}

void Node::close() {
  transport_.close();
  timer_.close();
  prepare_.close();
  check_.close();
}

void Node::end_step() {
  pending_step_ = false;
  core_->end_of_step();
  if (core_->state() == ReplicaState::serving && !serving_callbacks_.empty()) {
    auto callbacks = std::move(serving_callbacks_);
    serving_callbacks_.clear();
    for (auto& callback : callbacks) {
      callback();
    }
  }
  // Re-arm the timer only when the core's next deadline moved, which it rarely does between messages.
  Millis deadline = core_->next_deadline();
  if (deadline != armed_for_ && timer_.is_open()) {
    armed_for_ = deadline;
    if (deadline == Millis::max()) {
      timer_.stop();
    } else {
      Millis delay = deadline > loop_.now() ? deadline - loop_.now() : Millis(0);
      timer_.start(delay, [this] {
        armed_for_ = Millis::max();
        core_->on_timer();
        touched();
      });
    }
  }
}

void Node::on_state_changed(ReplicaState state, const std::string& why) {
  // A member that had to restore while its peers hold state lost its disk: an operator wants to know
  // (issue 10). A member of a new site starting empty is normal.
  bool lost_state = core_ && core_->restorer().peers_had_state();
  NodeLogLevel level = state == ReplicaState::failed ? NodeLogLevel::error
                       : lost_state                  ? NodeLogLevel::warning
                                                     : NodeLogLevel::info;
  log_(level, "replica " + std::to_string(core_ ? core_->config().self : 0) + ": " + why);
}

void Node::on_epoch_behind(NodeId peer, std::uint64_t seen) {
  std::uint64_t old = epoch();
  auto next = raise_boot_epoch(*disk_, seen + 1);
  if (!next) {
    log_(NodeLogLevel::error, "peer " + std::to_string(peer) +
                                  " drops this member's datagrams: it remembers boot epoch " +
                                  std::to_string(seen) + ", above this member's " + std::to_string(old) +
                                  ", and a new epoch cannot be stored: " + next.error().message());
    return;
  }
  transport_.set_epoch(*next);
  core_->advance_epoch(*next);
  log_(NodeLogLevel::warning,
       "peer " + std::to_string(peer) + " remembers boot epoch " + std::to_string(seen) +
           " of this member, above its own " + std::to_string(old) +
           " (a new state directory while the clock was behind?): moved to boot epoch " +
           std::to_string(*next));
  touched();
}

void Node::read(std::string key, Coordinator::ReadDone done) {
  core_->read(std::move(key), std::move(done));
  touched();
}

void Node::write(std::string key, std::string value, Coordinator::WriteDone done) {
  core_->write(std::move(key), std::move(value), std::move(done));
  touched();
}

void Node::on_serving(std::function<void()> callback) {
  serving_callbacks_.push_back(std::move(callback));
  touched();
}

}  // namespace fg::quorum
