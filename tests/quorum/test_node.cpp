// Node: three members of a site in one process, on one real loop, over real UDP on loopback, each with a
// real state directory. (Separate processes, SIGKILL and SIGSTOP are the e2e suite's job.)

#include "quorum/node.hpp"

#include <gtest/gtest.h>

#include <array>
#include <memory>

#include "quorum/disk_format.hpp"
#include "quorum/endpoint.hpp"
#include "storage/posix_disk.hpp"
#include "tests/support/loop_fixture.hpp"
#include "tests/support/temp_dir.hpp"

namespace fg::quorum {
namespace {

using namespace std::chrono_literals;

class NodeTest : public test::LoopTest {
 protected:
  void SetUp() override { ASSERT_TRUE(init_sodium()); }
  void TearDown() override {
    for (auto& node : nodes) {
      if (node) {
        node->close();
      }
    }
    nodes = {};
    test::LoopTest::TearDown();
  }

  NodeOptions options_for(NodeId id) {
    NodeOptions options;
    options.self = id;
    options.listen = *parse_endpoint("127.0.0.1:0");
    options.state_dir = dir.path() / ("state-" + std::to_string(id));
    for (NodeId other = 1; other <= 3; ++other) {
      if (other != id) {
        options.peers.push_back({other, *parse_endpoint("127.0.0.1:9")});  // real ports set after binding
      }
    }
    options.coordinator.op_timeout = 1s;
    return options;
  }

  void open(NodeId id) {
    auto node = Node::open(loop, key, options_for(id), [this](NodeLogLevel level, const std::string& line) {
      log += std::string(level == NodeLogLevel::info ? "info: " : "LOUD: ") + line + "\n";
    });
    ASSERT_TRUE(node) << node.error();
    nodes[id - 1] = std::move(*node);
    wire_addresses();
  }

  void open_all() {
    for (NodeId id = 1; id <= 3; ++id) {
      open(id);
    }
  }

  // Every member learns where the others listen (they bound to port 0).
  void wire_addresses() {
    for (auto& from : nodes) {
      for (NodeId id = 1; id <= 3; ++id) {
        if (from && nodes[id - 1] && from.get() != nodes[id - 1].get()) {
          from->set_peer_address(id, *nodes[id - 1]->local_address());
        }
      }
    }
  }

  void wait_serving(NodeId id) {
    bool serving = false;
    nodes[id - 1]->on_serving([&] {
      serving = true;
      loop.stop();
    });
    run_expecting_stop();
    ASSERT_TRUE(serving) << log;
  }

  OpResult<Tag> put(NodeId via, const std::string& key, const std::string& value) {
    OpResult<Tag> result = std::unexpected(OpError{});
    nodes[via - 1]->write(key, value, [&](OpResult<Tag> r) {
      result = std::move(r);
      loop.stop();
    });
    run_expecting_stop();
    return result;
  }

  OpResult<Versioned> get(NodeId via, const std::string& key) {
    OpResult<Versioned> result = std::unexpected(OpError{});
    nodes[via - 1]->read(key, [&](OpResult<Versioned> r) {
      result = std::move(r);
      loop.stop();
    });
    run_expecting_stop();
    return result;
  }

  test::TempDir dir;
  SiteKey key = SiteKey::random();
  std::array<std::unique_ptr<Node>, 3> nodes;
  std::string log;
};

TEST_F(NodeTest, AValueWrittenThroughOneMemberIsReadThroughAnother) {
  open_all();
  for (NodeId id = 1; id <= 3; ++id) {
    wait_serving(id);
  }
  auto written = put(1, "gw-a/boiler/t", "{\"value\":61.5}");
  ASSERT_TRUE(written) << written.error().message();
  auto read = get(3, "gw-a/boiler/t");
  ASSERT_TRUE(read) << read.error().message();
  EXPECT_EQ(read->value, "{\"value\":61.5}");
  EXPECT_EQ(read->tag, *written);
  // Every datagram was authenticated; nothing was dropped on a clean loopback.
  EXPECT_EQ(nodes[2]->transport_counters().channel.total(), 0u);
  // A new site is normal: its empty state directories are no warning (issue 10).
  EXPECT_EQ(log.find("LOUD: "), std::string::npos) << log;
  EXPECT_NE(log.find("info: " + (dir.path() / "state-1").string() + ": empty state directory"),
            std::string::npos)
      << log;
}

TEST_F(NodeTest, WithAMajorityCutOffAnOperationFailsWithAClearError) {
  open_all();
  for (NodeId id = 1; id <= 3; ++id) {
    wait_serving(id);
  }
  nodes[0]->set_blocked_peers({2, 3});
  auto written = put(1, "k", "v");
  ASSERT_FALSE(written);
  EXPECT_EQ(written.error().code, OpErrc::no_quorum) << written.error().message();
  // The detail names who did not answer.
  EXPECT_NE(written.error().detail.find("2, 3"), std::string::npos) << written.error().message();
  EXPECT_GT(nodes[0]->transport_counters().blocked_sent, 0u);
}

TEST_F(NodeTest, AMemberWithANewStateDirectoryRestoresFromItsPeers) {
  open_all();
  for (NodeId id = 1; id <= 3; ++id) {
    wait_serving(id);
  }
  ASSERT_TRUE(put(2, "desired/relay", "on"));
  nodes[2]->close();
  nodes[2].reset();
  std::filesystem::remove_all(dir.path() / "state-3");  // a new SD card
  open(3);
  EXPECT_EQ(nodes[2]->state(), ReplicaState::restoring);
  wait_serving(3);
  EXPECT_EQ(nodes[2]->keys(), 1u);
  // Its peers hold state, so its own was lost: said loudly, with what was restored (issue 10).
  EXPECT_NE(log.find("LOUD: replica 3: this member's state was lost"), std::string::npos) << log;
  EXPECT_NE(log.find("restored 1 keys from 2 peers (1, 2)"), std::string::npos) << log;
}

// Issue 10 part 2: a new SD card in a Pi whose clock is behind takes a boot epoch below the one its
// peers remember, and they drop all it sends as replays. They tell it so, and it moves past that epoch.
TEST_F(NodeTest, AMemberOnANewStateDirectoryWithItsEpochBehindMovesPastItAndRejoins) {
  open_all();
  for (NodeId id = 1; id <= 3; ++id) {
    wait_serving(id);
  }
  ASSERT_TRUE(put(1, "k", "v"));
  const std::uint64_t remembered = nodes[2]->epoch();
  nodes[2]->close();
  nodes[2].reset();
  std::filesystem::remove_all(dir.path() / "state-3");
  {
    // The epoch a new state directory takes when the clock is 10 minutes behind.
    auto disk = storage::PosixDisk::open(dir.path() / "state-3");
    ASSERT_TRUE(disk);
    ASSERT_FALSE(disk->replace("epoch", disk_format::encode_epoch(remembered - 600'000)));
  }
  open(3);
  EXPECT_LT(nodes[2]->epoch(), remembered);
  wait_serving(3);
  EXPECT_GT(nodes[2]->epoch(), remembered);
  EXPECT_NE(log.find("remembers boot epoch " + std::to_string(remembered)), std::string::npos) << log;
  EXPECT_GT(nodes[0]->replayed_from(3) + nodes[1]->replayed_from(3), 0u);
  EXPECT_GT(nodes[2]->transport_counters().epoch_notices_received, 0u);
  auto read = get(3, "k");
  ASSERT_TRUE(read) << read.error().message();
  EXPECT_EQ(read->value, "v");
}

TEST_F(NodeTest, TwoProcessesCannotShareAStateDirectory) {
  open(1);
  auto second = Node::open(loop, key, options_for(1), [](NodeLogLevel, const std::string&) {});
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().find("in use by another fieldgate"), std::string::npos) << second.error();
}

TEST_F(NodeTest, ARestartedMemberComesBackWithAHigherEpochAndItsState) {
  open_all();
  for (NodeId id = 1; id <= 3; ++id) {
    wait_serving(id);
  }
  ASSERT_TRUE(put(1, "k", "kept"));
  std::uint64_t epoch = nodes[0]->epoch();
  nodes[0]->close();
  nodes[0].reset();
  open(1);
  EXPECT_GT(nodes[0]->epoch(), epoch);
  EXPECT_EQ(nodes[0]->state(), ReplicaState::serving);
  EXPECT_EQ(nodes[0]->keys(), 1u);
  auto read = get(1, "k");
  ASSERT_TRUE(read) << read.error().message();
  EXPECT_EQ(read->value, "kept");
}

TEST_F(NodeTest, ACorruptSnapshotIsSetAsideAndTheMemberRebuildsFromItsPeers) {
  open_all();
  for (NodeId id = 1; id <= 3; ++id) {
    wait_serving(id);
  }
  ASSERT_TRUE(put(1, "k", "precious"));
  nodes[1]->close();
  nodes[1].reset();
  // Bit rot in the middle of member 2's snapshot.
  auto snapshot = dir.path() / "state-2" / "snapshot";
  std::string bytes = test::read_file(snapshot);
  ASSERT_GT(bytes.size(), 20u);
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x5a);
  test::write_file(snapshot, bytes);
  open(2);
  // It must not serve what it cannot trust: it restores from members 1 and 3 first.
  EXPECT_EQ(nodes[1]->state(), ReplicaState::restoring);
  EXPECT_NE(log.find("corrupt snapshot"), std::string::npos) << log;
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "state-2" / "snapshot.corrupt"));
  wait_serving(2);
  ASSERT_EQ(nodes[1]->keys(), 1u);
  auto read = get(2, "k");
  ASSERT_TRUE(read) << read.error().message();
  EXPECT_EQ(read->value, "precious");
}

}  // namespace
}  // namespace fg::quorum
