#pragma once
// `fieldgate status --prometheus`: the status document (status.hpp) in Prometheus' text exposition
// format (version 0.0.4), for node_exporter's textfile collector, which a systemd timer feeds on a Pi
// (docs/home-assistant.md, "Graphs"); the daemon runs no HTTP server. Every metric is named
// fieldgate_*, carries a `gateway` label, and `device` / `channel` / `peer` labels where they apply.

#include <nlohmann/json.hpp>

#include <string>

namespace fg::gateway {

// Each family as # HELP, # TYPE and its samples, every line ending in '\n'.
std::string format_prometheus(const nlohmann::json& status_document);

}  // namespace fg::gateway
