#pragma once
// SecureChannel: seals payloads into authenticated, encrypted datagrams for one peer and opens the
// datagrams peers sent, dropping (and counting by reason) everything that is not a fresh, genuine datagram
// for this node. It does no I/O, so the same code runs on UDP and in the deterministic simulation.
//
// Wire format of a datagram (all integers little-endian):
//
//   offset  size  field
//        0     2  magic 'F' 'Q'
//        2     1  version (1)
//        3     1  reserved (0)
//        4     4  sender NodeId
//        8     4  receiver NodeId
//       12     8  sender's boot epoch
//       20     8  sender's counter (1, 2, ... within the epoch)
//       28     n  ciphertext of the payload (n = payload size)
//     28+n    16  Poly1305 tag
//
// The 28-byte header travels in plaintext and is authenticated as associated data of
// XChaCha20-Poly1305 (IETF) under the site key. The 24-byte nonce is
//   sender (4) | epoch (8) | counter (8) | 4 zero bytes,
// unique for as long as the sender's epoch is persisted and bumped on every boot (the counter starts at 1
// in each epoch and never wraps: a channel refuses to seal past 2^64 - 1). Nonces are unique per sender;
// every sender shares the key, and its id in the nonce keeps their nonces apart.
//
// A datagram is at most 1400 bytes, so it fits a LAN's 1500-byte MTU with IPv6 and UDP headers and is
// never fragmented; the largest payload is 1400 - 28 - 16 = 1356 bytes.
//
// This header is part of the fuzzed code: no <expected> here.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "quorum/replay_window.hpp"
#include "quorum/site_key.hpp"
#include "quorum/tag.hpp"

namespace fg::quorum {

// Datagrams open() dropped, by reason. Reasons are checked in this order, so a datagram counts once.
struct ChannelDrops {
  std::uint64_t oversized = 0;     // longer than kMaxDatagram
  std::uint64_t truncated = 0;     // shorter than a header and a tag
  std::uint64_t garbled = 0;       // wrong magic, version or reserved byte
  std::uint64_t unknown_peer = 0;  // sender not among the peers, or the sender is this node
  std::uint64_t misdirected = 0;   // addressed to another node
  std::uint64_t forged = 0;        // failed authentication (another key, or altered on the way)
  std::uint64_t replayed = 0;      // genuine but seen already, too old, or from a previous epoch

  std::uint64_t total() const noexcept {
    return oversized + truncated + garbled + unknown_peer + misdirected + forged + replayed;
  }
  friend bool operator==(const ChannelDrops&, const ChannelDrops&) = default;
};

// A datagram that opened: who sent it, in which of its epochs, and the plaintext. The payload points
// into the channel's buffer and is valid until the next open() or the channel's end.
struct Opened {
  NodeId from = 0;
  std::uint64_t epoch = 0;
  std::span<const std::uint8_t> payload;
};

// A genuine datagram dropped because its epoch is older than the newest one seen from its sender: the
// sender restarted with a lower boot epoch (a new state directory while its clock was behind, issue 10).
struct StaleEpoch {
  NodeId from = 0;
  std::uint64_t sent = 0;  // the epoch the datagram carried
  std::uint64_t seen = 0;  // the newest epoch seen from that sender
};

// The plaintext header fields of a datagram, read without authenticating anything.
struct DatagramHeader {
  NodeId sender = 0;
  NodeId receiver = 0;
  std::uint64_t epoch = 0;
  std::uint64_t counter = 0;
};

class SecureChannel {
 public:
  static constexpr std::size_t kHeaderSize = 28;
  static constexpr std::size_t kTagSize = 16;
  static constexpr std::size_t kMaxDatagram = 1400;
  static constexpr std::size_t kMaxPayload = kMaxDatagram - kHeaderSize - kTagSize;
  static constexpr std::uint8_t kVersion = 1;

  // `self` (not 0) is this node and `epoch` its current boot epoch. `peers` are the nodes it accepts
  // datagrams from; 0, duplicates and `self` in the list are ignored. The key is copied.
  SecureChannel(const SiteKey& key, NodeId self, std::uint64_t epoch, std::vector<NodeId> peers);

  // A datagram carrying `payload` to `to`, or an empty vector if the payload is longer than kMaxPayload
  // or the counter is exhausted (neither happens in correct use). Each call uses the next counter.
  std::vector<std::uint8_t> seal(NodeId to, std::span<const std::uint8_t> payload);

  // The payload of a fresh, genuine datagram from a peer to this node; otherwise nothing, with the reason
  // counted in drops().
  std::optional<Opened> open(std::span<const std::uint8_t> datagram);

  // The header of a well-formed datagram (size, magic, version, reserved checked), unauthenticated: for
  // decisions that must not depend on the key, such as a test's simulated link cut.
  static std::optional<DatagramHeader> peek_header(std::span<const std::uint8_t> datagram) noexcept;

  const ChannelDrops& drops() const noexcept { return drops_; }
  // Genuine datagrams of `peer` dropped as replays (counted in drops().replayed too); 0 for a non-peer.
  std::uint64_t replayed_from(NodeId peer) const noexcept;
  // The stale epoch found by the last open() that returned nothing, if that was the reason; cleared by
  // this call and by the next open().
  std::optional<StaleEpoch> take_stale_epoch() noexcept { return std::exchange(stale_, std::nullopt); }
  // Moves this node to a new boot epoch (already stored by the caller, and higher than the old one):
  // counters start again at 1, as after a restart.
  void set_epoch(std::uint64_t epoch) noexcept {
    epoch_ = epoch;
    next_counter_ = 1;
  }
  NodeId self() const noexcept { return self_; }
  std::uint64_t epoch() const noexcept { return epoch_; }
  // The counter the next seal() will use.
  std::uint64_t next_counter() const noexcept { return next_counter_; }
  bool is_peer(NodeId id) const noexcept;

 private:
  struct Peer {
    NodeId id;
    ReplayWindow window;
    std::uint64_t replayed = 0;
  };
  Peer* peer_of(NodeId id) noexcept;

  SiteKey key_;
  NodeId self_;
  std::uint64_t epoch_;
  std::uint64_t next_counter_ = 1;
  // Three or five nodes: a short vector searched linearly beats any map.
  std::vector<Peer> peers_;
  ChannelDrops drops_;
  std::optional<StaleEpoch> stale_;
  std::array<std::uint8_t, kMaxPayload> plaintext_{};
};

}  // namespace fg::quorum
