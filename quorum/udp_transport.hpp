#pragma once
// UdpTransport: quorum's messages between gateways over UDP: one socket, one SecureChannel, one table of
// peers and their addresses.
//
// A datagram is accepted by its authenticated sender id, whatever address it came from (a peer's DHCP
// lease may change, and the key, not the address, is what proves who sent it); a message to a peer goes to
// the address configured for it. Nothing is queued or retransmitted here: a datagram the kernel cannot
// take now is dropped and counted (loop/udp_socket.hpp), and the protocol above retransmits.
//
// Known limits: peer addresses are fixed at construction; the bound socket's family must reach the peers'
// addresses (an IPv4 bind cannot send to IPv6 peers; an IPv6 bind is dual-stack and reaches both).

#include <sys/socket.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <functional>
#include <optional>
#include <span>
#include <system_error>
#include <vector>

#include "loop/loop.hpp"
#include "loop/udp_socket.hpp"
#include "quorum/secure_channel.hpp"
#include "quorum/site_key.hpp"
#include "quorum/tag.hpp"

namespace fg::quorum {

struct PeerEndpoint {
  NodeId id = 0;
  sockaddr_storage address{};
};

struct TransportCounters {
  std::uint64_t sent = 0;              // datagrams the kernel took
  std::uint64_t received = 0;          // payloads delivered to the receiver
  std::uint64_t send_errors = 0;       // sends dropped: unknown peer, payload too long, or the socket refused
  std::uint64_t blocked_sent = 0;      // sends dropped by set_blocked_peers
  std::uint64_t blocked_received = 0;  // datagrams dropped by set_blocked_peers
  std::uint64_t large_dropped = 0;     // sends dropped by set_large_drop
  std::uint64_t epoch_notices_sent = 0;      // told a peer its epoch is behind (on_epoch_behind)
  std::uint64_t epoch_notices_received = 0;  // were told so about the current epoch
  std::uint64_t receive_truncated = 0;       // datagrams larger than the socket's buffer (64 KiB)
  std::uint64_t receive_errors = 0;          // errors the socket reported while reading
  ChannelDrops channel;                      // datagrams the secure channel dropped, by reason
};

class UdpTransport {
 public:
  // The sender's id and boot epoch, and the payload (valid only during the call).
  using Receiver = std::function<void(NodeId from, std::uint64_t epoch, std::span<const std::uint8_t>)>;

  // `peers` are the other nodes of the site (an entry for `self` is ignored). The key is copied.
  UdpTransport(loop::Loop& loop, const SiteKey& key, NodeId self, std::uint64_t epoch,
               std::vector<PeerEndpoint> peers);
  UdpTransport(const UdpTransport&) = delete;
  UdpTransport& operator=(const UdpTransport&) = delete;
  ~UdpTransport() = default;

  // Binds the socket and starts receiving.
  std::error_code bind(const sockaddr& address);
  // The bound address (for tests that bind to port 0).
  std::expected<sockaddr_storage, std::error_code> local_address() const { return socket_.local_address(); }

  // Replaces the receiver. It may call send(), on_receive() or close() on this transport, and may
  // destroy it.
  void on_receive(Receiver receiver);

  // Seals `payload` (at most max_payload() bytes) for `to` and sends it to the peer's configured address.
  // Failures are counted, not returned: UDP loses datagrams anyway, and the protocol above retransmits.
  void send(NodeId to, std::span<const std::uint8_t> payload);
  static constexpr std::size_t max_payload() { return SecureChannel::kMaxPayload; }

  // Points a peer at a new address (its DHCP lease changed; a test bound its peers to port 0 and learnt
  // their ports afterwards). False if `id` is not a configured peer.
  bool set_peer_address(NodeId id, const sockaddr_storage& address);

  // Fault injection for tests and the real-process suite: drops all traffic to and from these peers,
  // counted in blocked_sent / blocked_received, as if the link were cut. Replaces the previous set; an
  // empty list heals every link. A received datagram is matched by the sender id in its header before
  // it is authenticated, so a blocked peer's datagrams leave no trace in the replay window.
  void set_blocked_peers(std::vector<NodeId> peers);

  // Fault injection: drops the datagrams to `peers` whose payload is at least `min_bytes` long (the
  // stores of a large value; tag queries, replies and heartbeats are small and pass) during `duration`
  // from the first one dropped, counted in large_dropped. It makes the schedule of issue 10 part 1: a
  // write stored by its coordinator and one member while its stores to the others are lost for a while.
  struct LargeDrop {
    std::vector<NodeId> peers;
    std::size_t min_bytes = 512;
    std::chrono::milliseconds duration{0};
  };
  void set_large_drop(LargeDrop fault);

  // A peer restarted on a new state directory while its clock was behind takes a boot epoch lower than
  // the one this node remembers, and every datagram it sends is dropped as a replay. So a genuine one
  // from an old epoch is answered (at most once per 250 ms per peer) with an authenticated epoch
  // notice: "your datagrams carry epoch S, I have seen E". A node told so about its current epoch calls
  // `handler` with E; it should store an epoch above E and switch to it (set_epoch). Notices travel
  // in this transport only (a payload starting with kEpochNotice, which no wire version uses), never
  // reaching the receiver. A notice about another epoch than the current one (a replayed old datagram)
  // is ignored, so replaying old traffic cannot make a node move its epoch.
  using EpochBehind = std::function<void(NodeId peer, std::uint64_t seen)>;
  void on_epoch_behind(EpochBehind handler) { epoch_behind_ = std::move(handler); }
  // Switches to a new, higher boot epoch, already stored durably by the caller.
  void set_epoch(std::uint64_t epoch) noexcept { channel_.set_epoch(epoch); }
  static constexpr std::uint8_t kEpochNotice = 0xE0;

  // Datagrams of `peer` dropped as replays (an old boot epoch, or seen already).
  std::uint64_t replayed_from(NodeId peer) const noexcept { return channel_.replayed_from(peer); }

  const TransportCounters& counters() const noexcept;
  NodeId self() const noexcept { return channel_.self(); }
  std::uint64_t epoch() const noexcept { return channel_.epoch(); }

  // Closes the socket; nothing is sent or received afterwards. The loop reaps the handle later.
  void close() noexcept { socket_.close(); }

 private:
  void handle_datagram(std::span<const std::uint8_t> datagram);
  const PeerEndpoint* peer(NodeId id) const noexcept;
  bool is_blocked(NodeId id) const noexcept;
  bool drops_large(NodeId to, std::size_t bytes);
  void notice_stale_epoch(const StaleEpoch& stale);
  bool handle_notice(NodeId from, std::span<const std::uint8_t> payload);

  loop::Loop& loop_;
  loop::UdpSocket socket_;
  SecureChannel channel_;
  std::vector<PeerEndpoint> peers_;
  std::vector<NodeId> blocked_;
  LargeDrop large_drop_;
  std::optional<std::chrono::milliseconds> large_drop_since_;  // when the first large datagram was dropped
  Receiver receiver_;
  EpochBehind epoch_behind_;
  std::vector<std::pair<NodeId, std::chrono::milliseconds>> last_notice_;  // to each peer, when
  // The channel and the socket count their own drops; counters() copies theirs in when asked.
  mutable TransportCounters counters_;
};

}  // namespace fg::quorum
