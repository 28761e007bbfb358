#pragma once
// Replication: the gateway's side of the site's replicated register (quorum/). It owns this gateway's
// member (quorum::Node) and decides what goes into the register and when:
//
//   readings        key "<gateway>/<device>/<channel>", value = the reading's JSON payload. A sensor that
//                   reports 100 times a second must not cost 100 replicated writes a second: per key, the
//                   latest reading wins and at most one write starts per `min_interval`.
//   desired states  key "<gateway>/<device>/<channel>/desired", value = the last value set through MQTT.
//                   Written at once (latest wins if one is in flight), read back at start so a gateway with
//                   a new SD card restores its outputs before it applies anything else.
//
// Nothing here knows MQTT topics or devices beyond the key names; Gateway does the routing.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <expected>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "gateway/config/config.hpp"
#include "loop/loop.hpp"
#include "loop/timer.hpp"
#include "quorum/node.hpp"

namespace fg::gateway {

struct ReplicationCounters {
  std::uint64_t readings_offered = 0;
  std::uint64_t readings_superseded = 0;  // replaced by a newer reading before their write started
  std::uint64_t readings_too_large = 0;   // over quorum::kMaxValueSize: not replicated
  std::uint64_t writes = 0;
  std::uint64_t write_failures = 0;
};

class Replication {
 public:
  static std::expected<std::unique_ptr<Replication>, std::string> open(loop::Loop& loop,
                                                                       const ReplicationSection& config);
  ~Replication();
  Replication(const Replication&) = delete;
  Replication& operator=(const Replication&) = delete;

  static std::string reading_key(std::string_view gateway, std::string_view device, std::string_view channel);
  static std::string desired_key(std::string_view gateway, std::string_view device, std::string_view channel);
  // A register value's version, as the control socket and the register topic show it.
  static nlohmann::json tag_json(const quorum::Tag& tag);

  // A reading for the register: replicated at most once per min_interval per key, latest value wins.
  void offer_reading(const std::string& key, std::string value);
  // A desired output state: replicated at once, latest value wins.
  void write_desired(const std::string& key, std::string value);

  void read(std::string key, quorum::Coordinator::ReadDone done) {
    node_->read(std::move(key), std::move(done));
  }
  void write(std::string key, std::string value, quorum::Coordinator::WriteDone done) {
    node_->write(std::move(key), std::move(value), std::move(done));
  }

  // Whether the member serves: false while it restores its state from its peers (a lost disk).
  bool serving() const { return node_->state() == quorum::ReplicaState::serving; }
  // Calls `callback` once the member serves (at once, at the end of this loop step, if it does).
  void on_serving(std::function<void()> callback) { node_->on_serving(std::move(callback)); }
  // Datagrams of peer `node` dropped as replays (docs/quorum.md: a clock behind on a new state directory).
  std::uint64_t replayed_from(std::uint32_t node) const { return node_->replayed_from(node); }
  const ReplicationSection& config() const { return config_; }
  const ReplicationCounters& counters() const { return counters_; }
  // For `fieldgate status`: this member, its peers, and the counters.
  nlohmann::json status() const;

  void close();

 private:
  struct KeyState {
    std::optional<std::string> pending;
    bool in_flight = false;
    quorum::Millis last_start{-1'000'000'000};
    quorum::Millis interval{0};
  };

  Replication(loop::Loop& loop, ReplicationSection config, std::unique_ptr<quorum::Node> node);
  void offer(const std::string& key, std::string value, quorum::Millis interval);
  void start_due();
  void start_write(const std::string& key, KeyState& state);
  void arm_timer();

  loop::Loop& loop_;
  ReplicationSection config_;
  std::unique_ptr<quorum::Node> node_;
  loop::Timer timer_;
  std::map<std::string, KeyState, std::less<>> keys_;
  ReplicationCounters counters_;
  std::string last_write_error_;
};

}  // namespace fg::gateway
