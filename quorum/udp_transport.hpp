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

#include <cstddef>
#include <cstdint>
#include <expected>
#include <functional>
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
  std::uint64_t receive_truncated = 0;  // datagrams larger than the socket's buffer (64 KiB)
  std::uint64_t receive_errors = 0;     // errors the socket reported while reading
  ChannelDrops channel;                 // datagrams the secure channel dropped, by reason
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

  const TransportCounters& counters() const noexcept;
  NodeId self() const noexcept { return channel_.self(); }
  std::uint64_t epoch() const noexcept { return channel_.epoch(); }

  // Closes the socket; nothing is sent or received afterwards. The loop reaps the handle later.
  void close() noexcept { socket_.close(); }

 private:
  void handle_datagram(std::span<const std::uint8_t> datagram);
  const PeerEndpoint* peer(NodeId id) const noexcept;
  bool is_blocked(NodeId id) const noexcept;

  loop::UdpSocket socket_;
  SecureChannel channel_;
  std::vector<PeerEndpoint> peers_;
  std::vector<NodeId> blocked_;
  Receiver receiver_;
  // The channel and the socket count their own drops; counters() copies theirs in when asked.
  mutable TransportCounters counters_;
};

}  // namespace fg::quorum
