#pragma once
// ReloadPlan: what a reload of the config file changes in the running daemon, worked out from the running
// config and the new one before anything is touched (docs/configuration.md, "Reloading the configuration").
//
// Devices are compared by name and by their whole settings: a device whose settings are equal is not
// touched (its port stays open, its readings and their seq go on), one that is gone is closed, a new one
// opened, one whose settings differ closed and opened again. A few settings cannot change while the daemon
// runs; any of them changed refuses the whole reload, so the daemon never runs half of a config.

#include <string>
#include <vector>

#include "gateway/config/config.hpp"

namespace fg::gateway {

struct ReloadPlan {
  // A setting that cannot change live: its dotted key ("replication.node") and why.
  struct Refusal {
    std::string key;
    std::string message;
  };

  std::vector<Refusal> refused;  // not empty: the reload changes nothing

  // Every device of the new config, in its order; the running daemon keeps its devices in this order.
  std::vector<std::string> order;
  // Device names, in the new config's order (removed: in the running config's order).
  std::vector<std::string> unchanged;
  std::vector<std::string> added;
  std::vector<std::string> removed;
  std::vector<std::string> changed;  // closed and opened again with the new settings
  // Devices kept whose readings are published in another form (payload = "json" / "raw"): no reopen.
  std::vector<std::string> payload_changed;

  bool mqtt_session_changed = false;  // [mqtt] connection settings: the session reconnects
  bool mqtt_publishing_changed = false;  // qos or retain of readings
  bool log_level_changed = false;
  bool metrics_interval_changed = false;  // a new interval, the metrics on before and after

  bool devices_changed() const { return !added.empty() || !removed.empty() || !changed.empty(); }
  // One line for the log and `fieldgate reload`: "devices: 2 unchanged, 1 added (c), ...; mqtt reconnects".
  std::string summary() const;
};

ReloadPlan plan_reload(const Config& running, const Config& next);

}  // namespace fg::gateway
