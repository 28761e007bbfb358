// [replication]: this gateway as a member of the site's replicated register (quorum/).

#include "gateway/config/sections.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "quorum/endpoint.hpp"
#include "quorum/site_key.hpp"

namespace fg::gateway::config_detail {

namespace {

using namespace std::chrono_literals;

// 0 is no node in quorum/; 65535 is the bound config.hpp documents, far more than a site of at most five
// members needs.
constexpr std::int64_t kMaxNode = 65535;

// Reports a required key as missing. The key is marked known first, so that a misspelling of it in the
// same table is reported with the suggestion: "adress: unknown key; did you mean \"address\"?".
void require(TableReader& table, std::string_view key, std::string message = "missing required key") {
  table.find(key);
  table.missing(key, std::move(message));
}

std::uint16_t port_of(const sockaddr_storage& address) {
  if (address.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in&>(address).sin_port);
  }
  return ntohs(reinterpret_cast<const sockaddr_in6&>(address).sin6_port);
}

// Whether a socket bound to `listen` can send to `peer` (udp_transport.hpp's known limit). An IPv4 socket
// cannot send to an IPv6 address. An IPv6 socket bound to [::] is dual-stack and reaches both families;
// one bound to any other IPv6 address has no IPv4 source address, so the kernel answers "Network is
// unreachable" for every IPv4 peer. Known limit: v4-mapped addresses ([::ffff:10.0.0.11]:7400) are left
// to the kernel; addresses of the family they belong to are the way to write them.
std::optional<std::string> unreachable(const sockaddr_storage& listen, const sockaddr_storage& peer) {
  const std::string dual_stack =
      "; listen on \"[::]:" + std::to_string(port_of(listen)) + "\" to reach IPv4 and IPv6 peers";
  if (listen.ss_family == AF_INET && peer.ss_family == AF_INET6) {
    return "an IPv6 peer cannot be reached from the IPv4 listen address " +
           quote(quorum::format_endpoint(listen)) + dual_stack;
  }
  if (listen.ss_family == AF_INET6 && peer.ss_family == AF_INET) {
    const in6_addr& bound = reinterpret_cast<const sockaddr_in6&>(listen).sin6_addr;
    if (!IN6_IS_ADDR_UNSPECIFIED(&bound) && !IN6_IS_ADDR_V4MAPPED(&bound)) {
      return "an IPv4 peer cannot be reached from the IPv6 listen address " +
             quote(quorum::format_endpoint(listen)) + dual_stack;
    }
  }
  return std::nullopt;
}

struct Endpoint {
  std::string text;  // as written
  sockaddr_storage address;
};

// The value of key as an endpoint with a non-zero port; nullopt after an issue, or when the key is absent
// (then a "missing required key" issue, since every endpoint here is required).
std::optional<Endpoint> read_endpoint(TableReader& table, std::string_view key,
                                      std::string_view port_zero_message) {
  if (!table.has(key)) {
    require(table, key);
    return std::nullopt;
  }
  const auto text = table.string(key);
  if (!text) {
    return std::nullopt;
  }
  auto parsed = quorum::parse_endpoint(*text);
  if (!parsed) {
    table.error(key, std::move(parsed).error());
    return std::nullopt;
  }
  if (port_of(*parsed) == 0) {
    table.error(key, std::string(port_zero_message));
    return std::nullopt;
  }
  return Endpoint{*text, *parsed};
}

std::optional<std::uint32_t> read_node(TableReader& table) {
  if (!table.has("node")) {
    require(table, "node");
    return std::nullopt;
  }
  if (auto node = table.integer("node", 1, kMaxNode)) {
    return static_cast<std::uint32_t>(*node);
  }
  return std::nullopt;
}

// The members read so far, for the uniqueness checks: each node number and address (in its canonical
// form, so "[fd00::1]:7400" and "[fd00:0::1]:7400" are the same) with the key that has it first.
struct Members {
  std::map<std::uint32_t, std::string> nodes;
  std::map<std::string, std::string> addresses;
  std::set<std::uint32_t> peer_nodes;
  bool every_peer_node_known = true;  // false when a peer's node is missing or invalid
};

void read_peer(TableReader& table, const std::optional<Endpoint>& listen, Members& members,
               ReplicationPeer& out) {
  const auto node = read_node(table);
  if (node) {
    out.node = *node;
    if (const auto [first, inserted] = members.nodes.emplace(*node, table.key_path("node")); !inserted) {
      table.error("node", "duplicate node " + std::to_string(*node) + ", already used by " + first->second);
    }
    members.peer_nodes.insert(*node);
  } else {
    members.every_peer_node_known = false;
  }
  const auto address =
      read_endpoint(table, "address", "port 0 cannot be sent to: give the port the peer listens on");
  if (!address) {
    return;
  }
  out.address = address->text;
  if (listen) {
    if (auto problem = unreachable(listen->address, address->address)) {
      table.error("address", std::move(*problem));
      return;
    }
  }
  const std::string canonical = quorum::format_endpoint(address->address);
  if (const auto [first, inserted] = members.addresses.emplace(canonical, table.key_path("address"));
      !inserted) {
    table.error("address", "duplicate address " + quote(out.address) + ", already used by " + first->second);
  }
}

void read_peers(TableReader& table, const std::optional<Endpoint>& listen, Members& members,
                std::vector<ReplicationPeer>& out) {
  const toml::node* node = table.find("peers");
  if (node == nullptr) {
    return;
  }
  const toml::array* array = node->as_array();
  if (array == nullptr) {
    table.error("peers",
                "expected an array of tables ([[replication.peers]], or peers = [{node = 2, address = "
                "\"10.0.0.12:7400\"}, ...]), got " +
                    std::string(type_name(node->type())));
    members.every_peer_node_known = false;
    return;
  }
  for (std::size_t i = 0; i < array->size(); ++i) {
    const toml::node& element = *array->get(i);
    const std::string path = table.key_path("peers") + "[" + std::to_string(i) + "]";
    const toml::table* peer = element.as_table();
    if (peer == nullptr) {
      table.issues().add(element.source().begin, path,
                         "expected a table, got " + std::string(type_name(element.type())));
      members.every_peer_node_known = false;
      continue;
    }
    TableReader reader(*peer, path, table.issues());
    read_peer(reader, listen, members, out.emplace_back());
    reader.finish();
  }
  // A majority of 2 out of 4 tolerates one failure, as 2 out of 3 does; 6 tolerates two, as 5 does. An
  // even site only adds a member that can fail.
  const std::size_t size = 1 + array->size();
  if (size != 1 && size != 3 && size != 5) {
    table.error("peers",
                "a site has 1, 3 or 5 members (majority quorums: an even count tolerates no more failures "
                "than one fewer); this config has " +
                    std::to_string(size));
  }
}

std::string list_of(const std::set<std::uint32_t>& nodes) {
  std::string out;
  for (const std::uint32_t node : nodes) {
    out += (out.empty() ? "" : ", ") + std::to_string(node);
  }
  return out;
}

// A fault-injection list of peers (drop_peers, drop_large_to): each a configured peer, once.
void read_peer_list(TableReader& table, const std::string& key, std::optional<std::uint32_t> self,
                    const Members& members, std::vector<std::uint32_t>& out) {
  const toml::node* node = table.find(key);
  if (node == nullptr) {
    return;
  }
  const toml::array* array = node->as_array();
  if (array == nullptr) {
    table.error(key, "expected an array of peer node numbers, such as [2, 3], got " +
                         std::string(type_name(node->type())));
    return;
  }
  std::map<std::int64_t, std::string> listed;
  for (std::size_t i = 0; i < array->size(); ++i) {
    const toml::node& element = *array->get(i);
    const std::string path = table.key_path(key) + "[" + std::to_string(i) + "]";
    const auto add = [&](std::string message) {
      table.issues().add(element.source().begin, path, std::move(message));
    };
    const auto* integer = element.as_integer();
    if (integer == nullptr) {
      add("expected an integer (a peer's node), got " + std::string(type_name(element.type())));
      continue;
    }
    const std::int64_t value = integer->get();
    const bool is_peer =
        value > 0 && value <= kMaxNode && members.peer_nodes.contains(static_cast<std::uint32_t>(value));
    if (!is_peer) {
      if (self && value == *self) {
        add("node " + std::to_string(value) + " is this gateway itself, not a peer");
      } else if (members.every_peer_node_known) {
        // (With a peer whose node could not be read, the number may well be that peer's, and that peer's
        // own issue is the one to fix.)
        add("node " + std::to_string(value) + " is not a peer" +
            (members.peer_nodes.empty() ? std::string(" (this config has no peers)")
                                        : " (the peers are " + list_of(members.peer_nodes) + ")"));
      }
      continue;
    }
    if (const auto [first, inserted] = listed.emplace(value, path); !inserted) {
      add("duplicate node " + std::to_string(value) + ", already listed at " + first->second);
      continue;
    }
    out.push_back(static_cast<std::uint32_t>(value));
  }
}

void read_key_file(TableReader& table, ReplicationSection& out) {
  if (!table.has("key_file")) {
    require(table, "key_file",
            "missing required key; make a key with `fieldgate keygen FILE` and copy it to every gateway "
            "of the site");
    return;
  }
  const auto path = table.string("key_file");
  if (!path) {
    return;
  }
  if (path->empty()) {
    table.error("key_file", "must not be empty");
    return;
  }
  out.key_file = *path;
  // The key is loaded here and dropped: Config keeps only the path, and the daemon loads the key itself
  // when it starts the node. Loading it here lets `fieldgate check` report a missing, malformed or
  // world-readable key at its line, before any daemon runs.
  if (auto load = quorum::load_site_key(*path); !load) {
    table.error("key_file", std::move(load.error));
  }
}

}  // namespace

void read_replication(TableReader& table, ReplicationSection& out) {
  Members members;
  const auto self = read_node(table);
  if (self) {
    out.node = *self;
    members.nodes.emplace(*self, table.key_path("node"));
  }
  const auto listen = read_endpoint(
      table, "listen", "port 0 picks any free port, but a fixed port is needed: the peers send to it");
  if (listen) {
    out.listen = listen->text;
    members.addresses.emplace(quorum::format_endpoint(listen->address), table.key_path("listen"));
  }
  read_peers(table, listen, members, out.peers);
  read_key_file(table, out);
  if (auto state_dir = table.string("state_dir")) {
    if (state_dir->empty()) {
      table.error("state_dir", "must not be empty");
    } else {
      out.state_dir = *state_dir;
    }
  }
  if (auto fsync = table.boolean("fsync")) {
    out.fsync = *fsync;
  }
  if (auto interval = table.duration("min_interval", DurationBounds{.positive = true})) {
    out.min_interval = *interval;
  }
  if (auto timeout = table.duration("timeout", DurationBounds{.min = 100ms, .max = 60s})) {
    out.timeout = *timeout;
  }
  if (auto heartbeat = table.duration("heartbeat", DurationBounds{.min = 100ms, .max = 60s})) {
    out.heartbeat = *heartbeat;
  }
  if (auto restore = table.duration("restore_timeout", DurationBounds{.min = 0ms, .max = 10min})) {
    out.restore_timeout = *restore;
  }
  read_peer_list(table, "drop_peers", self, members, out.drop_peers);
  read_peer_list(table, "drop_large_to", self, members, out.drop_large_to);
  if (auto window = table.duration("drop_large_for", DurationBounds{.min = 0ms, .max = 10min})) {
    out.drop_large_for = *window;
  }
}

}  // namespace fg::gateway::config_detail
