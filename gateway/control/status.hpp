#pragma once
// The status document: what the daemon tells of itself through the control socket ({"op": "status"},
// docs/control-socket.md), and how `fieldgate status` prints it for people.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace fg::gateway {

struct DeviceStatus {
  std::string name;
  bool online = false;
  std::uint64_t readings = 0;  // published since the start
};

struct Status {
  std::string gateway;  // the gateway's id
  std::string broker;   // "host:port"
  bool connected = false;
  std::vector<DeviceStatus> devices;
  bool outputs_restored = true;  // desired states restored from the register (or nothing to restore)
  nlohmann::json replication;    // Replication::status(), or null without [replication]
  // The disk spool: {"depth", "bytes", "oldest_age_ms" (null when empty), "dropped", "syncs"}, or null
  // with [mqtt] spool = false.
  nlohmann::json spool;
};

nlohmann::json status_document(const Status& status);

// The document as lines of text, each ending in '\n': the gateway and its broker, each device, and the
// replica with its peers and datagrams.
std::string format_status(const nlohmann::json& document);

}  // namespace fg::gateway
