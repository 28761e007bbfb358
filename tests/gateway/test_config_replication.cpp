// The config loader's [replication] and [control]: a full section maps onto the right values, the defaults
// hold, and every rule is reported with its exact message, line, column and key. Key files are real files
// in a temporary directory, with real modes, loaded by quorum::load_site_key.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/config/config.hpp"
#include "tests/gateway/config_test_support.hpp"
#include "tests/support/temp_dir.hpp"

namespace fg::gateway {
namespace {

using namespace std::chrono_literals;

using test_support::issue;
using test_support::issues;
using test_support::join;
using test_support::parse;

std::string read_source_file(const std::string& relative) {
  std::ifstream in(std::string(FG_SOURCE_DIR) + "/" + relative, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// What `fieldgate keygen` writes: 64 hex digits and a newline.
const std::string kKeyText = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF\n";

// The two peers of a valid site of three, inline; one line.
constexpr std::string_view kTwoPeers =
    "peers = [{node = 2, address = \"10.0.0.12:7400\"}, {node = 3, address = \"10.0.0.13:7400\"}]\n";

class ConfigReplication : public ::testing::Test {
 protected:
  ConfigReplication() : key_(write_key("site.key", 0600)) {}

  // A key file with this content and mode; returns its path.
  std::string write_key(const std::string& name, mode_t mode, const std::string& content = kKeyText) {
    const std::string path = (dir_ / name).string();
    test::write_file(path, content);
    EXPECT_EQ(::chmod(path.c_str(), mode), 0);
    return path;
  }

  // [replication] with node 1, a listen address and key_file (the value at column 12 of line 4), then
  // `extra` from line 5 on.
  std::string section(std::string_view extra, const std::string& key_file) const {
    return "[replication]\nnode = 1\nlisten = \"10.0.0.11:7400\"\nkey_file = \"" + key_file + "\"\n" +
           std::string(extra);
  }
  std::string section(std::string_view extra = "") const { return section(extra, key_); }

  test::TempDir dir_;
  std::string key_;
};

// ---------------------------------------------------------------------------------------------------------
// Valid sections.

TEST_F(ConfigReplication, FullSectionMapsOntoEveryValue) {
  const Config config = parse(R"toml(
[replication]
node = 3
listen = "[::]:7400"
key_file = ")toml" + key_ + R"toml("
state_dir = "/srv/fieldgate/quorum"
fsync = false
min_interval = "250ms"
timeout = "5s"
heartbeat = "500ms"
restore_timeout = "1min"
drop_peers = [5]

[[replication.peers]]
node = 1
address = "10.0.0.11:7400"

[[replication.peers]]
node = 2
address = "[fd00::12]:7401"

[[replication.peers]]
node = 4
address = "10.0.0.14:7400"

[[replication.peers]]
node = 5
address = "10.0.0.15:7400"

[control]
socket = "/run/fieldgate/ctl"
)toml");
  ASSERT_TRUE(config.replication.has_value());
  const ReplicationSection& replication = *config.replication;
  EXPECT_EQ(replication.node, 3u);
  EXPECT_EQ(replication.listen, "[::]:7400");
  ASSERT_EQ(replication.peers.size(), 4u);
  EXPECT_EQ(replication.peers[0].node, 1u);
  EXPECT_EQ(replication.peers[0].address, "10.0.0.11:7400");
  EXPECT_EQ(replication.peers[1].node, 2u);
  EXPECT_EQ(replication.peers[1].address, "[fd00::12]:7401");
  EXPECT_EQ(replication.peers[3].node, 5u);
  EXPECT_EQ(replication.key_file, key_);
  EXPECT_EQ(replication.state_dir, "/srv/fieldgate/quorum");
  EXPECT_FALSE(replication.fsync);
  EXPECT_EQ(replication.min_interval, 250ms);
  EXPECT_EQ(replication.timeout, 5s);
  EXPECT_EQ(replication.heartbeat, 500ms);
  EXPECT_EQ(replication.restore_timeout, 1min);
  EXPECT_EQ(replication.drop_peers, (std::vector<std::uint32_t>{5}));
  EXPECT_EQ(config.control.socket, "/run/fieldgate/ctl");
}

TEST_F(ConfigReplication, Defaults) {
  const Config none = parse("");
  EXPECT_FALSE(none.replication.has_value());
  EXPECT_EQ(none.control.socket, "/run/fieldgate/control.sock");

  const Config config = parse(section());
  ASSERT_TRUE(config.replication.has_value());
  const ReplicationSection& replication = *config.replication;
  EXPECT_EQ(replication.node, 1u);
  EXPECT_EQ(replication.listen, "10.0.0.11:7400");
  EXPECT_TRUE(replication.peers.empty());  // a site of one
  EXPECT_EQ(replication.state_dir, "/var/lib/fieldgate/quorum");
  EXPECT_TRUE(replication.fsync);
  EXPECT_EQ(replication.min_interval, 1s);
  EXPECT_EQ(replication.timeout, 2s);
  EXPECT_EQ(replication.heartbeat, 1s);
  EXPECT_EQ(replication.restore_timeout, 10s);
  EXPECT_TRUE(replication.drop_peers.empty());
  EXPECT_EQ(config.control.socket, "/run/fieldgate/control.sock");
}

TEST_F(ConfigReplication, InlinePeersAndArraysOfTablesAreTheSame) {
  const Config inline_form = parse(section(kTwoPeers));
  const Config table_form =
      parse(section("[[replication.peers]]\nnode = 2\naddress = \"10.0.0.12:7400\"\n"
                    "[[replication.peers]]\nnode = 3\naddress = \"10.0.0.13:7400\"\n"));
  const Config whole_inline = parse(
      "replication = { node = 1, listen = \"10.0.0.11:7400\", key_file = \"" + key_ +
      "\", peers = [{ node = 2, address = \"10.0.0.12:7400\" }, { node = 3, address = \"10.0.0.13:7400\" }] "
      "}\n");
  for (const Config* config : {&inline_form, &table_form, &whole_inline}) {
    ASSERT_TRUE(config->replication.has_value());
    const auto& peers = config->replication->peers;
    ASSERT_EQ(peers.size(), 2u);
    EXPECT_EQ(peers[0].node, 2u);
    EXPECT_EQ(peers[0].address, "10.0.0.12:7400");
    EXPECT_EQ(peers[1].node, 3u);
    EXPECT_EQ(peers[1].address, "10.0.0.13:7400");
  }
}

TEST_F(ConfigReplication, ADualStackListenAddressReachesBothFamilies) {
  const Config config = parse(
      "[replication]\nnode = 1\nlisten = \"[::]:7400\"\nkey_file = \"" + key_ +
      "\"\npeers = [{node = 2, address = \"10.0.0.12:7400\"}, {node = 3, address = \"[fd00::13]:7400\"}]\n");
  ASSERT_TRUE(config.replication.has_value());
  EXPECT_EQ(config.replication->peers.size(), 2u);
}

TEST_F(ConfigReplication, ZeroRestoreTimeoutAndAnEmptyControlSocketAreAllowed) {
  const Config config = parse(section("restore_timeout = \"0s\"\n[control]\nsocket = \"\"\n"));
  ASSERT_TRUE(config.replication.has_value());
  EXPECT_EQ(config.replication->restore_timeout, 0s);
  EXPECT_EQ(config.control.socket, "");
}

// ---------------------------------------------------------------------------------------------------------
// Errors. A section() has its first extra line at line 5.

TEST_F(ConfigReplication, RequiredKeysAreReportedAtTheirTable) {
  // At one position, issues come in the order they were found: the order of the reference.
  EXPECT_EQ(
      issues("[replication]\n"),
      (std::vector<std::string>{
          "site.toml:1:1: replication.node: missing required key",
          "site.toml:1:1: replication.listen: missing required key",
          "site.toml:1:1: replication.key_file: missing required key; make a key with `fieldgate keygen "
          "FILE` and copy it to every gateway of the site",
      }));
  EXPECT_EQ(issues(section(std::string(kTwoPeers.substr(0, 9)) +
                           "{}, {node = 3, address = \"10.0.0.13:7400\"}]\n")),
            (std::vector<std::string>{
                "site.toml:5:10: replication.peers[0].node: missing required key",
                "site.toml:5:10: replication.peers[0].address: missing required key",
            }));
  EXPECT_EQ(issue(section("[[replication.peers]]\nnode = 2\n[[replication.peers]]\nnode = 3\n"
                          "address = \"10.0.0.13:7400\"\n")),
            "site.toml:5:1: replication.peers[0].address: missing required key");
}

TEST_F(ConfigReplication, NodeNumbersAreInRange) {
  EXPECT_EQ(issue("[replication]\nnode = 0\nlisten = \"10.0.0.11:7400\"\nkey_file = \"" + key_ + "\"\n"),
            "site.toml:2:8: replication.node: must be between 1 and 65535, got 0");
  EXPECT_EQ(issue("[replication]\nnode = 65536\nlisten = \"10.0.0.11:7400\"\nkey_file = \"" + key_ + "\"\n"),
            "site.toml:2:8: replication.node: must be between 1 and 65535, got 65536");
  EXPECT_EQ(issue("[replication]\nnode = \"1\"\nlisten = \"10.0.0.11:7400\"\nkey_file = \"" + key_ + "\"\n"),
            "site.toml:2:8: replication.node: expected an integer, got a string");
  EXPECT_EQ(
      issue(section(
          "peers = [{node = -2, address = \"10.0.0.12:7400\"}, {node = 3, address = \"10.0.0.13:7400\"}]\n")),
      "site.toml:5:18: replication.peers[0].node: must be between 1 and 65535, got -2");
}

TEST_F(ConfigReplication, NodeNumbersAreUniqueInTheSite) {
  EXPECT_EQ(
      issue(section(
          "peers = [{node = 1, address = \"10.0.0.12:7400\"}, {node = 3, address = \"10.0.0.13:7400\"}]\n")),
      "site.toml:5:18: replication.peers[0].node: duplicate node 1, already used by replication.node");
  EXPECT_EQ(issue(section("[[replication.peers]]\nnode = 2\naddress = \"10.0.0.12:7400\"\n"
                          "[[replication.peers]]\nnode = 2\naddress = \"10.0.0.13:7400\"\n")),
            "site.toml:9:8: replication.peers[1].node: duplicate node 2, already used by "
            "replication.peers[0].node");
}

TEST_F(ConfigReplication, AddressesAreUniqueInTheSite) {
  EXPECT_EQ(
      issue(section(
          "peers = [{node = 2, address = \"10.0.0.12:7400\"}, {node = 3, address = \"10.0.0.12:7400\"}]\n")),
      "site.toml:5:71: replication.peers[1].address: duplicate address \"10.0.0.12:7400\", already used "
      "by replication.peers[0].address");
  EXPECT_EQ(
      issue(section(
          "peers = [{node = 2, address = \"10.0.0.11:7400\"}, {node = 3, address = \"10.0.0.13:7400\"}]\n")),
      "site.toml:5:31: replication.peers[0].address: duplicate address \"10.0.0.11:7400\", already used "
      "by replication.listen");
  // Compared as addresses, not as text.
  EXPECT_EQ(issue("[replication]\nnode = 1\nlisten = \"[::]:7400\"\nkey_file = \"" + key_ +
                  "\"\npeers = [{node = 2, address = \"[fd00::12]:7400\"}, {node = 3, address = "
                  "\"[fd00:0::12]:7400\"}]\n"),
            "site.toml:5:72: replication.peers[1].address: duplicate address \"[fd00:0::12]:7400\", already "
            "used by "
            "replication.peers[0].address");
}

TEST_F(ConfigReplication, ASiteHasOneThreeOrFiveMembers) {
  const std::string rule =
      "replication.peers: a site has 1, 3 or 5 members (majority quorums: an even count tolerates no more "
      "failures than one fewer); this config has ";
  EXPECT_EQ(issue(section("peers = [{node = 2, address = \"10.0.0.12:7400\"}]\n")),
            "site.toml:5:9: " + rule + "2");
  EXPECT_EQ(issue(section("peers = [{node = 2, address = \"10.0.0.12:7400\"}, {node = 3, address = "
                          "\"10.0.0.13:7400\"}, {node = 4, address = \"10.0.0.14:7400\"}]\n")),
            "site.toml:5:9: " + rule + "4");
  std::string six = "[replication]\nnode = 1\nlisten = \"10.0.0.11:7400\"\nkey_file = \"" + key_ + "\"\n";
  for (int node = 2; node <= 6; ++node) {
    six += "[[replication.peers]]\nnode = " + std::to_string(node) + "\naddress = \"10.0.0.1" +
           std::to_string(node) + ":7400\"\n";
  }
  EXPECT_EQ(issue(six), "site.toml:5:1: " + rule + "6");
  parse(section("peers = []\n"));
}

TEST_F(ConfigReplication, EndpointsAreCheckedByQuorum) {
  EXPECT_EQ(issue("[replication]\nnode = 1\nlisten = \"gateway-a:7400\"\nkey_file = \"" + key_ + "\"\n"),
            "site.toml:3:10: replication.listen: endpoint \"gateway-a:7400\": host names are not supported; "
            "use an IP address, as in 192.168.1.10:7400 or [fd00::1]:7400");
  EXPECT_EQ(issue("[replication]\nnode = 1\nlisten = \"10.0.0.11\"\nkey_file = \"" + key_ + "\"\n"),
            "site.toml:3:10: replication.listen: endpoint \"10.0.0.11\": expected ADDRESS:PORT, the port is "
            "missing");
  EXPECT_EQ(issue("[replication]\nnode = 1\nlisten = 7400\nkey_file = \"" + key_ + "\"\n"),
            "site.toml:3:10: replication.listen: expected a string, got an integer");
  EXPECT_EQ(
      issue(section(
          "peers = [{node = 2, address = \"fd00::12:7400\"}, {node = 3, address = \"10.0.0.13:7400\"}]\n")),
      "site.toml:5:31: replication.peers[0].address: endpoint \"fd00::12:7400\": an IPv6 address must be "
      "in brackets, as in [fd00::1]:7400");
  EXPECT_EQ(
      issue(section(
          "peers = [{node = 2, address = \"10.0.0.12:99999\"}, {node = 3, address = \"10.0.0.13:7400\"}]\n")),
      "site.toml:5:31: replication.peers[0].address: endpoint \"10.0.0.12:99999\": port \"99999\" is out "
      "of range (0..65535)");
}

TEST_F(ConfigReplication, PortZeroIsAnError) {
  EXPECT_EQ(issue("[replication]\nnode = 1\nlisten = \"0.0.0.0:0\"\nkey_file = \"" + key_ + "\"\n"),
            "site.toml:3:10: replication.listen: port 0 picks any free port, but a fixed port is needed: the "
            "peers send to it");
  EXPECT_EQ(
      issue(section(
          "peers = [{node = 2, address = \"10.0.0.12:0\"}, {node = 3, address = \"10.0.0.13:7400\"}]\n")),
      "site.toml:5:31: replication.peers[0].address: port 0 cannot be sent to: give the port the peer "
      "listens on");
}

TEST_F(ConfigReplication, PeersMustBeReachableFromTheListenAddress) {
  EXPECT_EQ(
      issue(section(
          "peers = [{node = 2, address = \"[fd00::12]:7400\"}, {node = 3, address = \"10.0.0.13:7400\"}]\n")),
      "site.toml:5:31: replication.peers[0].address: an IPv6 peer cannot be reached from the IPv4 listen "
      "address \"10.0.0.11:7400\"; listen on \"[::]:7400\" to reach IPv4 and IPv6 peers");
  EXPECT_EQ(issue("[replication]\nnode = 1\nlisten = \"[fd00::11]:7400\"\nkey_file = \"" + key_ +
                  "\"\npeers = [{node = 2, address = \"[fd00::12]:7400\"}, {node = 3, address = "
                  "\"10.0.0.13:7400\"}]\n"),
            "site.toml:5:72: replication.peers[1].address: an IPv4 peer cannot be reached from the IPv6 "
            "listen address "
            "\"[fd00::11]:7400\"; listen on \"[::]:7400\" to reach IPv4 and IPv6 peers");
}

TEST_F(ConfigReplication, PeersMustBeAnArrayOfTables) {
  EXPECT_EQ(
      issue(section("peers = 2\n")),
      "site.toml:5:9: replication.peers: expected an array of tables ([[replication.peers]], or peers = "
      "[{node = 2, address = \"10.0.0.12:7400\"}, ...]), got an integer");
  EXPECT_EQ(
      issue(section("[replication.peers]\nnode = 2\n")),
      "site.toml:5:1: replication.peers: expected an array of tables ([[replication.peers]], or peers = "
      "[{node = 2, address = \"10.0.0.12:7400\"}, ...]), got a table");
  EXPECT_EQ(issue(section("peers = [2, {node = 3, address = \"10.0.0.13:7400\"}]\n")),
            "site.toml:5:10: replication.peers[0]: expected a table, got an integer");
}

TEST_F(ConfigReplication, MissingKeyFile) {
  const std::string missing = (dir_ / "missing.key").string();
  EXPECT_EQ(issue(section("", missing)), "site.toml:4:12: replication.key_file: " + missing +
                                             ": no such key file; make one with `fieldgate keygen " +
                                             missing + "` and copy it to every gateway of the site");
  EXPECT_EQ(issue(section("", "")), "site.toml:4:12: replication.key_file: must not be empty");
}

TEST_F(ConfigReplication, KeyFileOthersCanReadIsAnError) {
  const std::string world_readable = write_key("world.key", 0644);
  EXPECT_EQ(issue(section("", world_readable)),
            "site.toml:4:12: replication.key_file: " + world_readable +
                ": key file is accessible by other users (mode 0644); chmod 600 it");
  const std::string world_writable = write_key("writable.key", 0602);
  EXPECT_EQ(issue(section("", world_writable)),
            "site.toml:4:12: replication.key_file: " + world_writable +
                ": key file is accessible by other users (mode 0602); chmod 600 it");
}

TEST_F(ConfigReplication, KeyFileTheGroupCanReadIsAccepted) {
  const std::string group_readable = write_key("group.key", 0640);
  const Config config = parse(section("", group_readable));
  ASSERT_TRUE(config.replication.has_value());
  EXPECT_EQ(config.replication->key_file, group_readable);
}

TEST_F(ConfigReplication, KeyFileMustHoldAKey) {
  std::string bad_digit = kKeyText;
  bad_digit[5] = 'g';
  const std::string bad_hex = write_key("bad-hex.key", 0600, bad_digit);
  EXPECT_EQ(issue(section("", bad_hex)),
            "site.toml:4:12: replication.key_file: " + bad_hex + ": not a hex digit at offset 5");
  const std::string short_key = write_key("short.key", 0600, kKeyText.substr(0, 62) + "\n");
  EXPECT_EQ(issue(section("", short_key)),
            "site.toml:4:12: replication.key_file: " + short_key +
                ": expected 64 hex digits (a 32-byte key) and a newline, as `fieldgate keygen` writes");
  EXPECT_EQ(issue(section("", dir_.path().string())),
            "site.toml:4:12: replication.key_file: " + dir_.path().string() +
                ": the key file is not a regular file");
}

TEST_F(ConfigReplication, UnknownKeysWithSuggestions) {
  EXPECT_EQ(issue(section("hearbeat = \"1s\"\n")),
            "site.toml:5:1: replication.hearbeat: unknown key; did you mean \"heartbeat\"?");
  EXPECT_EQ(issue(section("keyfile = \"x\"\n")),
            "site.toml:5:1: replication.keyfile: unknown key; did you mean \"key_file\"?");
  EXPECT_EQ(issue(section("quorum = 2\n")), "site.toml:5:1: replication.quorum: unknown key");
  // A misspelt required key is reported twice: missing, and unknown with the suggestion.
  EXPECT_EQ(issues(section("[[replication.peers]]\nnode = 2\nadress = \"10.0.0.12:7400\"\n"
                           "[[replication.peers]]\nnode = 3\naddress = \"10.0.0.13:7400\"\n")),
            (std::vector<std::string>{
                "site.toml:5:1: replication.peers[0].address: missing required key",
                "site.toml:7:1: replication.peers[0].adress: unknown key; did you mean \"address\"?",
            }));
  EXPECT_EQ(
      issues("[replication]\nnode = 1\nlisten = \"10.0.0.11:7400\"\nkeyfile = \"" + key_ + "\"\n"),
      (std::vector<std::string>{
          "site.toml:1:1: replication.key_file: missing required key; make a key with `fieldgate keygen "
          "FILE` and copy it to every gateway of the site",
          "site.toml:4:1: replication.keyfile: unknown key; did you mean \"key_file\"?",
      }));
  EXPECT_EQ(issue("[control]\nsockt = \"/run/x\"\n"),
            "site.toml:2:1: control.sockt: unknown key; did you mean \"socket\"?");
}

TEST_F(ConfigReplication, WrongTypes) {
  EXPECT_EQ(issue("replication = 1\n"), "site.toml:1:15: replication: expected a table, got an integer");
  EXPECT_EQ(issue("control = \"/run/x\"\n"), "site.toml:1:11: control: expected a table, got a string");
  EXPECT_EQ(issue(section("fsync = \"no\"\n")),
            "site.toml:5:9: replication.fsync: expected a boolean, got a string");
  EXPECT_EQ(issue(section("state_dir = 1\n")),
            "site.toml:5:13: replication.state_dir: expected a string, got an integer");
  EXPECT_EQ(issue("[control]\nsocket = false\n"),
            "site.toml:2:10: control.socket: expected a string, got a boolean");
}

TEST_F(ConfigReplication, StateDirMustNotBeEmpty) {
  EXPECT_EQ(issue(section("state_dir = \"\"\n")), "site.toml:5:13: replication.state_dir: must not be empty");
}

TEST_F(ConfigReplication, DurationRanges) {
  EXPECT_EQ(issue(section("min_interval = \"0s\"\n")),
            "site.toml:5:16: replication.min_interval: must be more than 0s, got \"0s\"");
  EXPECT_EQ(issue(section("timeout = \"50ms\"\n")),
            "site.toml:5:11: replication.timeout: must be between 100ms and 1min, got \"50ms\"");
  EXPECT_EQ(issue(section("timeout = \"61s\"\n")),
            "site.toml:5:11: replication.timeout: must be between 100ms and 1min, got \"61s\"");
  EXPECT_EQ(issue(section("heartbeat = \"0s\"\n")),
            "site.toml:5:13: replication.heartbeat: must be between 100ms and 1min, got \"0s\"");
  EXPECT_EQ(issue(section("heartbeat = \"2min\"\n")),
            "site.toml:5:13: replication.heartbeat: must be between 100ms and 1min, got \"2min\"");
  EXPECT_EQ(issue(section("restore_timeout = \"11min\"\n")),
            "site.toml:5:19: replication.restore_timeout: must be between 0s and 10min, got \"11min\"");
  EXPECT_EQ(issue(section("timeout = 2\n")),
            "site.toml:5:11: replication.timeout: expected a duration string with a unit, such as \"2s\" "
            "(units: ms, s, min, h), got an integer");
  const Config bounds =
      parse(section("timeout = \"100ms\"\nheartbeat = \"60s\"\nrestore_timeout = \"10min\"\n"));
  ASSERT_TRUE(bounds.replication.has_value());
  EXPECT_EQ(bounds.replication->timeout, 100ms);
  EXPECT_EQ(bounds.replication->heartbeat, 60s);
  EXPECT_EQ(bounds.replication->restore_timeout, 10min);
}

TEST_F(ConfigReplication, DropPeersNamesConfiguredPeers) {
  const Config config = parse(section(std::string(kTwoPeers) + "drop_peers = [3, 2]\n"));
  ASSERT_TRUE(config.replication.has_value());
  EXPECT_EQ(config.replication->drop_peers, (std::vector<std::uint32_t>{3, 2}));

  EXPECT_EQ(issue(section(std::string(kTwoPeers) + "drop_peers = [2, 7]\n")),
            "site.toml:6:18: replication.drop_peers[1]: node 7 is not a peer (the peers are 2, 3)");
  EXPECT_EQ(issue(section("drop_peers = [2]\n")),
            "site.toml:5:15: replication.drop_peers[0]: node 2 is not a peer (this config has no peers)");
  EXPECT_EQ(issue(section(std::string(kTwoPeers) + "drop_peers = [1]\n")),
            "site.toml:6:15: replication.drop_peers[0]: node 1 is this gateway itself, not a peer");
  EXPECT_EQ(issue(section(std::string(kTwoPeers) + "drop_peers = [2, 2]\n")),
            "site.toml:6:18: replication.drop_peers[1]: duplicate node 2, already listed at "
            "replication.drop_peers[0]");
  EXPECT_EQ(issue(section(std::string(kTwoPeers) + "drop_peers = [\"2\"]\n")),
            "site.toml:6:15: replication.drop_peers[0]: expected an integer (a peer's node), got a string");
  EXPECT_EQ(issue(section(std::string(kTwoPeers) + "drop_peers = 2\n")),
            "site.toml:6:14: replication.drop_peers: expected an array of peer node numbers, such as [2, 3], "
            "got an integer");
  // With a peer whose node cannot be read, only that peer is reported.
  EXPECT_EQ(
      issue(section(
          "peers = [{node = 0, address = \"10.0.0.12:7400\"}, {node = 3, address = \"10.0.0.13:7400\"}]\n"
          "drop_peers = [2]\n")),
      "site.toml:5:18: replication.peers[0].node: must be between 1 and 65535, got 0");
}

TEST_F(ConfigReplication, ControlSocketFitsInAUnixSocketAddress) {
  const std::string longest = "/run/" + std::string(102, 's');  // 107 bytes and the NUL: 108
  ASSERT_EQ(longest.size(), 107u);
  EXPECT_EQ(parse("[control]\nsocket = \"" + longest + "\"\n").control.socket, longest);
  EXPECT_EQ(
      issue("[control]\nsocket = \"" + longest + "s\"\n"),
      "site.toml:2:10: control.socket: must be shorter than 108 bytes (the limit of a unix socket path), "
      "got 108 bytes");
}

TEST_F(ConfigReplication, AllIssuesAreReportedInFileOrder) {
  const std::string world_readable = write_key("world.key", 0644);
  const auto all = issues(R"toml([replication]
node = 2
listen = "10.0.0.12:0"
key_file = ")toml" + world_readable +
                          R"toml("
timeout = "1h"

[[replication.peers]]
node = 2
address = "10.0.0.11:7400"

[control]
socket = ")toml" + std::string(200, 'x') +
                          R"toml("
)toml");
  EXPECT_EQ(all,
            (std::vector<std::string>{
                "site.toml:3:10: replication.listen: port 0 picks any free port, but a fixed port is "
                "needed: the peers send to it",
                "site.toml:4:12: replication.key_file: " + world_readable +
                    ": key file is accessible by other users (mode 0644); chmod 600 it",
                "site.toml:5:11: replication.timeout: must be between 100ms and 1min, got \"1h\"",
                "site.toml:7:1: replication.peers: a site has 1, 3 or 5 members (majority quorums: an even "
                "count tolerates no more failures than one fewer); this config has 2",
                "site.toml:8:8: replication.peers[0].node: duplicate node 2, already used by "
                "replication.node",
                "site.toml:12:10: control.socket: must be shorter than 108 bytes (the limit of a unix "
                "socket path), got 200 bytes",
            }));
}

// ---------------------------------------------------------------------------------------------------------
// The device name "register" is the replicated register's topic level.

TEST(ConfigDeviceNames, RegisterIsReserved) {
  EXPECT_EQ(issue("[[serial]]\nname = \"register\"\npath = \"/dev/ttyUSB0\"\n"),
            "site.toml:2:8: serial[0].name: the device name \"register\" is taken by the topic layout "
            "(<prefix>/<gateway>/register/... is the replicated register)");
  const Config config = parse("[[serial]]\nname = \"registers\"\npath = \"/dev/ttyUSB0\"\n");
  ASSERT_EQ(config.serial.size(), 1u);
  EXPECT_EQ(config.serial[0].device.name, "registers");
}

// ---------------------------------------------------------------------------------------------------------
// The examples in the reference and in examples/fieldgate.toml stay valid. Their key_file is replaced by a
// real key file; everything else is taken as written.

std::string with_key_file(std::string text, const std::string& key) {
  const std::string_view prefix = "key_file = \"";
  const std::size_t start = text.find(prefix);
  EXPECT_NE(start, std::string::npos) << text;
  if (start == std::string::npos) {
    return text;
  }
  const std::size_t value = start + prefix.size();
  return text.replace(value, text.find('"', value) - value, key);
}

TEST_F(ConfigReplication, TheSiteExampleOfTheReferenceIsValid) {
  const std::string doc = read_source_file("docs/configuration.md");
  const std::size_t section_start = doc.find("## Example: a site of three gateways");
  ASSERT_NE(section_start, std::string::npos);
  const std::size_t start = doc.find("```toml\n", section_start);
  ASSERT_NE(start, std::string::npos);
  const std::size_t end = doc.find("```", start + 8);
  ASSERT_NE(end, std::string::npos);
  const Config config = parse(with_key_file(doc.substr(start + 8, end - start - 8), key_));
  ASSERT_TRUE(config.replication.has_value());
  EXPECT_EQ(config.replication->peers.size(), 2u);
}

TEST_F(ConfigReplication, TheCommentedOutSectionOfTheShippedExampleIsValid) {
  // The lines from "#[replication]" to the next line that is not a comment. Commented-out settings
  // ("#node = 1", "#[[replication.peers]]") are uncommented; prose ("# The ...") stays a comment.
  std::istringstream example(read_source_file("examples/fieldgate.toml"));
  std::string text;
  bool inside = false;
  for (std::string line; std::getline(example, line);) {
    inside = inside ? line.starts_with("#") : line == "#[replication]";
    if (inside) {
      const bool setting = line.size() > 1 && line[1] != ' ' && line[1] != '#';
      text += (setting ? line.substr(1) : line) + "\n";
    }
  }
  ASSERT_FALSE(text.empty());
  const Config config = parse(with_key_file(text, key_));
  ASSERT_TRUE(config.replication.has_value());
  EXPECT_EQ(config.replication->peers.size(), 2u);
}

}  // namespace
}  // namespace fg::gateway
