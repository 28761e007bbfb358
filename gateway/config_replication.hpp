#pragma once
// Reading [replication] and [control] of the config. Private to gateway/config*.cpp.

#include "gateway/config.hpp"
#include "gateway/config_reader.hpp"

namespace fg::gateway::config_detail {

// Reads every key of [replication] into out, reporting each problem to the table's sink: endpoints are
// checked with quorum::parse_endpoint, the site's size and the uniqueness of its node numbers and
// addresses, and the key file is loaded with quorum::load_site_key (so `fieldgate check` finds a missing,
// malformed or world-readable key before the daemon does). Does not call table.finish(): the caller does.
void read_replication(TableReader& table, ReplicationSection& out);

// Reads [control]. Does not call table.finish().
void read_control(TableReader& table, ControlSection& out);

}  // namespace fg::gateway::config_detail
