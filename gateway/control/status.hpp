#pragma once
// The status document: what the daemon tells of itself through the control socket ({"op": "status"},
// docs/control-socket.md), how `fieldgate status` prints it for people, and what the retained
// <prefix>/<gateway>/metrics message carries (docs/topics.md). prometheus.hpp prints it for Prometheus.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace fg::gateway {

struct DeviceStatus {
  std::string name;
  bool online = false;
  std::uint64_t readings = 0;  // published since the start
  // The device's own counters (devices::Counter), by name, and which of them count drops.
  std::vector<std::pair<std::string, std::uint64_t>> counters;
  std::vector<std::string> drop_counters;
  std::map<std::string, std::uint64_t> channels;  // readings published, by channel
};

struct MqttStatus {
  std::uint64_t published = 0;
  std::uint64_t acknowledged = 0;
  std::uint64_t dropped = 0;
  std::uint64_t reconnects = 0;
  std::uint64_t outbox = 0;  // messages waiting now
};

struct Status {
  std::string gateway;  // the gateway's id
  std::string version;
  std::string broker;  // "host:port"
  bool connected = false;
  std::uint64_t uptime_s = 0;
  double readings_per_min = 0;
  std::uint64_t dropped = 0;  // every drop counter of the gateway, summed (gateway/drop_watch.hpp)
  MqttStatus mqtt;
  std::vector<DeviceStatus> devices;
  bool outputs_restored = true;  // desired states restored from the register (or nothing to restore)
  nlohmann::json replication;    // Replication::status(), or null without [replication]
  // The disk spool: {"depth", "bytes", "oldest_age_ms" (null when empty), "dropped", "syncs", "wakeups",
  // "epoch"}, or null with [mqtt] spool = false.
  nlohmann::json spool;
};

nlohmann::json status_document(const Status& status);

// The document as lines of text, each ending in '\n': the gateway and its broker, each device, and the
// replica with its peers and datagrams.
std::string format_status(const nlohmann::json& document);

}  // namespace fg::gateway
