#include "quorum/udp_transport.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <array>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "loop/udp_socket.hpp"
#include "quorum/endpoint.hpp"
#include "tests/support/loop_fixture.hpp"

namespace fg::quorum {
namespace {

using Bytes = std::vector<std::uint8_t>;

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
std::string text_of(std::span<const std::uint8_t> b) {
  return std::string(b.begin(), b.end());
}

SiteKey test_key(std::uint8_t seed = 1) {
  std::array<std::uint8_t, SiteKey::kSize> bytes{};
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    bytes[i] = static_cast<std::uint8_t>(seed * 3 + i);
  }
  return SiteKey(bytes);
}

sockaddr_storage any_loopback_port() {
  return *parse_endpoint("127.0.0.1:0");
}
const sockaddr& as_sockaddr(const sockaddr_storage& a) {
  return reinterpret_cast<const sockaddr&>(a);
}

struct Message {
  NodeId from;
  std::uint64_t epoch;
  std::string payload;
  friend bool operator==(const Message&, const Message&) = default;
};

std::ostream& operator<<(std::ostream& out, const Message& m) {
  return out << "{from " << m.from << ", epoch " << m.epoch << ", \"" << m.payload << "\"}";
}

// Nodes 1, 2 and 3 on loopback (epochs 10, 20, 30), each bound to a free port and told the others' ports,
// each recording what it receives. A raw UDP socket on loopback plays the attacker or a captured link.
class UdpTransportTest : public test::LoopTest {
 protected:
  void SetUp() override {
    for (NodeId id : {1u, 2u, 3u}) {
      std::vector<PeerEndpoint> peers;
      for (NodeId other : {1u, 2u, 3u}) {
        if (other != id) {
          peers.push_back({other, any_loopback_port()});
        }
      }
      auto t = std::make_unique<UdpTransport>(loop, key_, id, id * 10, std::move(peers));
      ASSERT_FALSE(t->bind(as_sockaddr(any_loopback_port())));
      t->on_receive([this, id](NodeId from, std::uint64_t epoch, std::span<const std::uint8_t> payload) {
        got_[id].push_back({from, epoch, text_of(payload)});
        if (stop_when_ && stop_when_()) {
          loop.stop();
        }
      });
      nodes_[id] = std::move(t);
    }
    for (auto& [id, t] : nodes_) {
      for (auto& [other, o] : nodes_) {
        if (other != id) {
          ASSERT_TRUE(t->set_peer_address(other, *o->local_address()));
        }
      }
    }
    ASSERT_FALSE(raw_.bind(as_sockaddr(any_loopback_port())));
    ASSERT_FALSE(raw_.start_receiving([this](std::span<const std::uint8_t> d, const sockaddr&) {
      captured_.emplace_back(d.begin(), d.end());
      if (stop_when_ && stop_when_()) {
        loop.stop();
      }
    }));
  }

  void TearDown() override {
    for (auto& [id, t] : nodes_) {
      t->close();
    }
    raw_.close();
    loop.run();  // reaps the closed handles
    test::LoopTest::TearDown();
  }

  UdpTransport& node(NodeId id) { return *nodes_.at(id); }

  // Runs the loop until `done` holds (checked after every delivery).
  void run_until(std::function<bool()> done) {
    if (done()) {
      return;
    }
    stop_when_ = std::move(done);
    run_expecting_stop();
    stop_when_ = nullptr;
  }

  // Sends a marker from `from` to `to` and runs until it arrives. Loopback queues datagrams to one socket
  // in the order they were sent, so everything sent to `to` before the marker has been handled by then.
  void flush(NodeId from, NodeId to) {
    const std::string marker = "marker " + std::to_string(++markers_);
    node(from).send(to, bytes_of(marker));
    run_until([&] { return !got_[to].empty() && got_[to].back().payload == marker; });
    got_[to].pop_back();
  }

  // Raw datagram to a node's socket.
  void inject(NodeId to, std::span<const std::uint8_t> datagram) {
    EXPECT_FALSE(raw_.send(as_sockaddr(*node(to).local_address()), datagram));
  }

  // Points `from`'s view of peer `peer` at the raw socket and sends one payload: the sealed datagram, as
  // it would appear on the wire, lands in captured_.
  Bytes capture(NodeId from, NodeId peer, const std::string& payload) {
    const std::size_t before = captured_.size();
    const auto real = *node(peer).local_address();
    node(from).set_peer_address(peer, *raw_.local_address());
    node(from).send(peer, bytes_of(payload));
    run_until([&] { return captured_.size() > before; });
    node(from).set_peer_address(peer, real);
    return captured_.back();
  }

  SiteKey key_ = test_key();
  std::map<NodeId, std::unique_ptr<UdpTransport>> nodes_;
  std::map<NodeId, std::vector<Message>> got_;
  loop::UdpSocket raw_{loop};
  std::vector<Bytes> captured_;
  std::function<bool()> stop_when_;
  int markers_ = 0;
};

TEST_F(UdpTransportTest, ThreeNodesExchangePayloadsWithSenderAndEpoch) {
  for (NodeId from : {1u, 2u, 3u}) {
    for (NodeId to : {1u, 2u, 3u}) {
      if (from != to) {
        node(from).send(to, bytes_of(std::to_string(from) + "->" + std::to_string(to)));
      }
    }
  }
  run_until([&] { return got_[1].size() == 2 && got_[2].size() == 2 && got_[3].size() == 2; });
  EXPECT_EQ(got_[1], (std::vector<Message>{{2, 20, "2->1"}, {3, 30, "3->1"}}));
  EXPECT_EQ(got_[2], (std::vector<Message>{{1, 10, "1->2"}, {3, 30, "3->2"}}));
  EXPECT_EQ(got_[3], (std::vector<Message>{{1, 10, "1->3"}, {2, 20, "2->3"}}));
  for (NodeId id : {1u, 2u, 3u}) {
    EXPECT_EQ(node(id).counters().sent, 2u);
    EXPECT_EQ(node(id).counters().received, 2u);
    EXPECT_EQ(node(id).counters().channel.total(), 0u);
  }
}

TEST_F(UdpTransportTest, TheLargestPayloadArrivesWhole) {
  std::string big(UdpTransport::max_payload(), 'z');
  node(1).send(2, bytes_of(big));
  run_until([&] { return got_[2].size() == 1; });
  EXPECT_EQ(got_[2][0].payload, big);
}

TEST_F(UdpTransportTest, ADatagramIsAcceptedByItsAuthenticatedSenderWhateverItsSourceAddress) {
  // Node 1's datagram, resent from another address (the raw socket): a peer whose DHCP lease changed.
  Bytes sealed = capture(1, 2, "moved");
  inject(2, sealed);
  run_until([&] { return got_[2].size() == 1; });
  EXPECT_EQ(got_[2][0], (Message{1, 10, "moved"}));
}

TEST_F(UdpTransportTest, ATransportWithAnotherKeyIsDroppedAsForged) {
  SiteKey other_key = test_key(42);
  UdpTransport outsider(loop, other_key, 1, 10, {{2, *node(2).local_address()}});
  ASSERT_FALSE(outsider.bind(as_sockaddr(any_loopback_port())));
  outsider.send(2, bytes_of("let me in"));
  EXPECT_EQ(outsider.counters().sent, 1u);
  flush(3, 2);
  EXPECT_TRUE(got_[2].empty());
  EXPECT_EQ(node(2).counters().channel.forged, 1u);
  outsider.close();
}

TEST_F(UdpTransportTest, EachBadDatagramIsCountedByItsReasonAndTheNodeKeepsServing) {
  Bytes sealed = capture(1, 2, "genuine");
  ChannelDrops expected;

  inject(2, std::span(sealed).first(SecureChannel::kHeaderSize + SecureChannel::kTagSize - 1));
  ++expected.truncated;
  inject(2, Bytes(SecureChannel::kMaxDatagram + 1, 0));
  ++expected.oversized;
  Bytes garbled = sealed;
  garbled[0] = 'X';
  inject(2, garbled);
  ++expected.garbled;

  // The captured datagram, twice: the first is delivered, the second is a replay.
  inject(2, sealed);
  inject(2, sealed);
  ++expected.replayed;

  // Node 1 "before its last reboot": a channel with a lower epoch than the one node 2 has seen.
  SecureChannel old_boot(key_, 1, 9, {2, 3});
  inject(2, old_boot.seal(2, bytes_of("from an old boot")));
  ++expected.replayed;

  SecureChannel stranger(key_, 7, 1, {2});
  inject(2, stranger.seal(2, bytes_of("who am I")));
  ++expected.unknown_peer;

  SecureChannel node_one_later(key_, 1, 11, {2, 3});
  inject(2, node_one_later.seal(3, bytes_of("for node 3")));
  ++expected.misdirected;

  SecureChannel forger(test_key(9), 1, 11, {2});
  inject(2, forger.seal(2, bytes_of("forged")));
  ++expected.forged;

  flush(3, 2);
  EXPECT_EQ(got_[2], (std::vector<Message>{{1, 10, "genuine"}}));
  EXPECT_EQ(node(2).counters().channel, expected);

  // Still serving every peer, node 1 included.
  node(1).send(2, bytes_of("after"));
  run_until([&] { return got_[2].size() == 2; });
  EXPECT_EQ(got_[2].back(), (Message{1, 10, "after"}));
  EXPECT_EQ(node(2).counters().received, 3u);  // genuine, the marker, after
}

TEST_F(UdpTransportTest, BlockedPeersDropTrafficBothWaysUntilUnblocked) {
  node(1).set_blocked_peers({2});
  node(1).send(2, bytes_of("1 to 2, cut"));
  node(2).send(1, bytes_of("2 to 1, cut"));
  flush(3, 1);
  flush(3, 2);
  EXPECT_TRUE(got_[1].empty());
  EXPECT_TRUE(got_[2].empty());
  EXPECT_EQ(node(1).counters().blocked_sent, 1u);
  EXPECT_EQ(node(1).counters().blocked_received, 1u);
  EXPECT_EQ(node(1).counters().sent, 0u);
  EXPECT_EQ(node(2).counters().sent, 1u) << "the cut is on node 1's side only";

  // Other links still work.
  node(1).send(3, bytes_of("1 to 3"));
  run_until([&] { return got_[3].size() == 1; });
  EXPECT_EQ(got_[3][0].payload, "1 to 3");

  node(1).set_blocked_peers({});
  node(1).send(2, bytes_of("1 to 2, healed"));
  node(2).send(1, bytes_of("2 to 1, healed"));
  run_until([&] { return got_[1].size() == 1 && got_[2].size() == 1; });
  EXPECT_EQ(got_[1][0], (Message{2, 20, "2 to 1, healed"}));
  EXPECT_EQ(got_[2][0], (Message{1, 10, "1 to 2, healed"}));
  EXPECT_EQ(node(1).counters().channel.total(), 0u) << "a blocked datagram must not reach the channel";
}

TEST_F(UdpTransportTest, SendsToUnknownNodesOrOfOversizedPayloadsAreCountedErrors) {
  node(1).send(9, bytes_of("nobody"));
  node(1).send(1, bytes_of("myself"));
  node(1).send(2, Bytes(UdpTransport::max_payload() + 1, 0));
  EXPECT_EQ(node(1).counters().send_errors, 3u);
  EXPECT_EQ(node(1).counters().sent, 0u);
  EXPECT_FALSE(node(1).set_peer_address(9, any_loopback_port()));
  EXPECT_FALSE(node(1).set_peer_address(1, any_loopback_port()));
}

TEST_F(UdpTransportTest, ASendTheSocketRefusesIsCounted) {
  // Port 0 is no destination: the kernel refuses the datagram.
  ASSERT_TRUE(node(1).set_peer_address(2, any_loopback_port()));
  node(1).send(2, bytes_of("x"));
  EXPECT_EQ(node(1).counters().send_errors, 1u);
  EXPECT_EQ(node(1).counters().sent, 0u);
}

TEST_F(UdpTransportTest, TheReceiverMayReplyAndCloseItsTransport) {
  node(2).on_receive([&](NodeId from, std::uint64_t, std::span<const std::uint8_t> payload) {
    node(2).send(from, bytes_of("re: " + text_of(payload)));
    node(2).close();
  });
  node(1).send(2, bytes_of("ping"));
  node(1).send(2, bytes_of("never read"));
  run_until([&] { return got_[1].size() == 1; });
  EXPECT_EQ(got_[1][0], (Message{2, 20, "re: ping"}));
  EXPECT_EQ(node(2).counters().received, 1u);
}

TEST_F(UdpTransportTest, BindingAPortInUseFails) {
  UdpTransport second(loop, key_, 1, 10, {});
  EXPECT_EQ(second.bind(as_sockaddr(*node(1).local_address())), std::errc::address_in_use);
  second.close();
}

}  // namespace
}  // namespace fg::quorum
