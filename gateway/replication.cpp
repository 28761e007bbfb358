#include "gateway/replication.hpp"

#include <algorithm>

#include "gateway/log.hpp"
#include "quorum/endpoint.hpp"

namespace fg::gateway {
namespace {

const char* to_string(quorum::ReplicaState state) {
  switch (state) {
    case quorum::ReplicaState::restoring:
      return "restoring";
    case quorum::ReplicaState::serving:
      return "serving";
    case quorum::ReplicaState::failed:
      return "failed";
  }
  return "?";
}

LogLevel to_log_level(quorum::NodeLogLevel level) {
  switch (level) {
    case quorum::NodeLogLevel::error:
      return LogLevel::error;
    case quorum::NodeLogLevel::warning:
      return LogLevel::warning;
    case quorum::NodeLogLevel::info:
      return LogLevel::info;
    case quorum::NodeLogLevel::debug:
      return LogLevel::debug;
  }
  return LogLevel::info;
}

}  // namespace

std::string Replication::reading_key(std::string_view gateway, std::string_view device,
                                     std::string_view channel) {
  return std::string(gateway) + "/" + std::string(device) + "/" + std::string(channel);
}

std::string Replication::desired_key(std::string_view gateway, std::string_view device,
                                     std::string_view channel) {
  return reading_key(gateway, device, channel) + "/desired";
}

nlohmann::json Replication::tag_json(const quorum::Tag& tag) {
  return {{"counter", tag.counter}, {"writer", tag.writer}, {"epoch", tag.epoch}};
}

std::expected<std::unique_ptr<Replication>, std::string> Replication::open(loop::Loop& loop,
                                                                           const ReplicationSection& config) {
  auto key = quorum::load_site_key(config.key_file);
  if (!key) {
    return std::unexpected(key.error);
  }
  quorum::NodeOptions options;
  options.self = config.node;
  auto listen = quorum::parse_endpoint(config.listen);
  if (!listen) {
    return std::unexpected("replication.listen: " + listen.error());
  }
  options.listen = *listen;
  for (const auto& peer : config.peers) {
    auto address = quorum::parse_endpoint(peer.address);
    if (!address) {
      return std::unexpected("replication.peers: " + address.error());
    }
    options.peers.push_back({peer.node, *address});
  }
  options.state_dir = config.state_dir;
  options.fsync = config.fsync;
  options.coordinator.op_timeout = config.timeout;
  options.peer_timing.interval = config.heartbeat;
  options.peer_timing.down_after = config.heartbeat * 3 + config.heartbeat / 2;
  options.blocked_peers.assign(config.drop_peers.begin(), config.drop_peers.end());
  options.large_drop.peers.assign(config.drop_large_to.begin(), config.drop_large_to.end());
  options.large_drop.duration = config.drop_large_for;
  auto node =
      quorum::Node::open(loop, *key.key, options, [](quorum::NodeLogLevel level, const std::string& line) {
        log(to_log_level(level), "replication: {}", line);
      });
  if (!node) {
    return std::unexpected(node.error());
  }
  if (!config.drop_peers.empty()) {
    log(LogLevel::warning, "replication: fault injection: dropping all traffic to and from {} peer(s)",
        config.drop_peers.size());
  }
  if (!config.drop_large_to.empty()) {
    log(LogLevel::warning,
        "replication: fault injection: dropping large datagrams to {} peer(s) for {} ms after the first",
        config.drop_large_to.size(), config.drop_large_for.count());
  }
  return std::unique_ptr<Replication>(new Replication(loop, config, std::move(*node)));
}

Replication::Replication(loop::Loop& loop, ReplicationSection config, std::unique_ptr<quorum::Node> node)
    : loop_(loop), config_(std::move(config)), node_(std::move(node)), timer_(loop) {}

Replication::~Replication() {
  close();
}

void Replication::close() {
  timer_.close();
  if (node_) {
    node_->close();
  }
}

void Replication::offer_reading(const std::string& key, std::string value) {
  ++counters_.readings_offered;
  offer(key, std::move(value), config_.min_interval);
}

void Replication::write_desired(const std::string& key, std::string value) {
  offer(key, std::move(value), {});
}

void Replication::offer(const std::string& key, std::string value, quorum::Millis interval) {
  if (value.size() > quorum::kMaxValueSize) {
    ++counters_.readings_too_large;
    return;
  }
  auto it = keys_.find(key);
  if (it == keys_.end()) {
    it = keys_.emplace(key, KeyState{}).first;
  }
  KeyState& state = it->second;
  if (state.pending) {
    ++counters_.readings_superseded;
  }
  state.pending = std::move(value);
  state.interval = interval;
  if (!state.in_flight && loop_.now() - state.last_start >= interval) {
    start_write(it->first, state);
  } else {
    arm_timer();
  }
}

void Replication::start_write(const std::string& key, KeyState& state) {
  state.in_flight = true;
  state.last_start = loop_.now();
  ++counters_.writes;
  std::string value = std::move(*state.pending);
  state.pending.reset();
  node_->write(key, std::move(value), [this, key](quorum::OpResult<quorum::Tag> done) {
    if (!done) {
      ++counters_.write_failures;
      // One line per distinct failure, not one per reading: a site without quorum would flood the log.
      if (done.error().detail != last_write_error_) {
        log(LogLevel::warning, "replication: {}", done.error().message());
        last_write_error_ = done.error().detail;
      }
    } else {
      last_write_error_.clear();
    }
    auto it = keys_.find(key);
    if (it == keys_.end()) {
      return;
    }
    it->second.in_flight = false;
    if (it->second.pending) {
      arm_timer();
    }
  });
}

void Replication::start_due() {
  quorum::Millis now = loop_.now();
  for (auto& [key, state] : keys_) {
    if (state.pending && !state.in_flight && now - state.last_start >= state.interval) {
      start_write(key, state);
    }
  }
  arm_timer();
}

void Replication::arm_timer() {
  // The earliest moment a pending value may start; the timer runs only while something waits.
  quorum::Millis next = quorum::Millis::max();
  for (const auto& [key, state] : keys_) {
    if (state.pending && !state.in_flight) {
      next = std::min(next, state.last_start + state.interval);
    }
  }
  if (next == quorum::Millis::max()) {
    timer_.stop();
    return;
  }
  quorum::Millis delay = std::max(next - loop_.now(), quorum::Millis(0));
  if (!timer_.active() || timer_.due_in() > delay) {
    timer_.start(delay, [this] { start_due(); });
  }
}

nlohmann::json Replication::status() const {
  using nlohmann::json;
  const auto& core = node_->core();
  json peers = json::array();
  for (const auto& peer : node_->peers()) {
    json p{{"node", peer.node},
           {"up", peer.up},
           {"state", to_string(peer.state)},
           {"replayed", node_->replayed_from(peer.node)}};
    for (const auto& configured : config_.peers) {
      if (configured.node == peer.node) {
        p["address"] = configured.address;
      }
    }
    p["rtt_ms"] = peer.round_trip ? json(peer.round_trip->count()) : json(nullptr);
    p["last_heard_ms_ago"] = peer.last_heard_ago ? json(peer.last_heard_ago->count()) : json(nullptr);
    peers.push_back(std::move(p));
  }
  auto transport = node_->transport_counters();
  const auto& coordinator = core.coordinator_counters();
  return json{
      {"node", config_.node},
      {"state", to_string(node_->state())},
      {"epoch", node_->epoch()},
      {"keys", node_->keys()},
      {"listen", config_.listen},
      {"peers", std::move(peers)},
      {"operations",
       {{"reads", coordinator.reads},
        {"writes", coordinator.writes},
        {"reads_with_write_back", coordinator.reads_with_write_back},
        {"failed", coordinator.failed},
        {"retransmissions", coordinator.retransmissions},
        {"busy", coordinator.busy},
        {"in_flight", core.operations_in_flight()}}},
      {"readings",
       {{"offered", counters_.readings_offered},
        {"superseded", counters_.readings_superseded},
        {"too_large", counters_.readings_too_large},
        {"writes", counters_.writes},
        {"write_failures", counters_.write_failures}}},
      {"datagrams",
       {{"sent", transport.sent},
        {"received", transport.received},
        {"malformed", core.counters().malformed},
        {"send_errors", transport.send_errors},
        {"dropped",
         {{"forged", transport.channel.forged},
          {"replayed", transport.channel.replayed},
          {"truncated", transport.channel.truncated},
          {"oversized", transport.channel.oversized},
          {"garbled", transport.channel.garbled},
          {"unknown_peer", transport.channel.unknown_peer},
          {"misdirected", transport.channel.misdirected},
          {"blocked", transport.blocked_received}}},
        {"large_dropped", transport.large_dropped},
        {"epoch_notices_sent", transport.epoch_notices_sent},
        {"epoch_notices_received", transport.epoch_notices_received}}},
      {"commits", core.counters().commits},
  };
}

}  // namespace fg::gateway
