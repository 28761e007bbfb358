#include "quorum/secure_channel.hpp"

#include <sodium.h>

#include <algorithm>

namespace fg::quorum {
namespace {

static_assert(SecureChannel::kTagSize == crypto_aead_xchacha20poly1305_ietf_ABYTES);
static_assert(SiteKey::kSize == crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
constexpr std::size_t kNonceSize = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
static_assert(kNonceSize == 24);

template <typename T>
void store_le(std::uint8_t* out, T value) noexcept {
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    out[i] = static_cast<std::uint8_t>(value >> (8 * i));
  }
}

template <typename T>
T load_le(const std::uint8_t* in) noexcept {
  T value = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    value |= static_cast<T>(static_cast<T>(in[i]) << (8 * i));
  }
  return value;
}

void write_header(std::uint8_t* out, const DatagramHeader& h) noexcept {
  out[0] = 'F';
  out[1] = 'Q';
  out[2] = SecureChannel::kVersion;
  out[3] = 0;
  store_le(out + 4, h.sender);
  store_le(out + 8, h.receiver);
  store_le(out + 12, h.epoch);
  store_le(out + 20, h.counter);
}

std::array<std::uint8_t, kNonceSize> nonce_of(const DatagramHeader& h) noexcept {
  std::array<std::uint8_t, kNonceSize> nonce{};
  store_le(nonce.data(), h.sender);
  store_le(nonce.data() + 4, h.epoch);
  store_le(nonce.data() + 12, h.counter);
  return nonce;  // the last 4 bytes stay zero
}

}  // namespace

SecureChannel::SecureChannel(const SiteKey& key, NodeId self, std::uint64_t epoch, std::vector<NodeId> peers)
    : key_(key), self_(self), epoch_(epoch) {
  // SiteKey's constructor already initialised libsodium; this picks the fastest AEAD implementation too.
  (void)init_sodium();
  std::sort(peers.begin(), peers.end());
  peers.erase(std::unique(peers.begin(), peers.end()), peers.end());
  for (NodeId id : peers) {
    if (id != 0 && id != self) {
      peers_.push_back(Peer{id, ReplayWindow{}});
    }
  }
}

bool SecureChannel::is_peer(NodeId id) const noexcept {
  return std::any_of(peers_.begin(), peers_.end(), [id](const Peer& peer) { return peer.id == id; });
}

SecureChannel::Peer* SecureChannel::peer_of(NodeId id) noexcept {
  for (Peer& peer : peers_) {
    if (peer.id == id) {
      return &peer;
    }
  }
  return nullptr;
}

std::uint64_t SecureChannel::replayed_from(NodeId id) const noexcept {
  for (const Peer& peer : peers_) {
    if (peer.id == id) {
      return peer.replayed;
    }
  }
  return 0;
}

std::vector<std::uint8_t> SecureChannel::seal(NodeId to, std::span<const std::uint8_t> payload) {
  if (payload.size() > kMaxPayload || next_counter_ == 0) {
    // next_counter_ wraps to 0 only after 2^64 - 1 datagrams; reusing a nonce would be far worse than
    // going silent.
    return {};
  }
  const DatagramHeader header{self_, to, epoch_, next_counter_++};
  std::vector<std::uint8_t> datagram(kHeaderSize + payload.size() + kTagSize);
  write_header(datagram.data(), header);
  const auto nonce = nonce_of(header);
  unsigned long long sealed_size = 0;
  ::crypto_aead_xchacha20poly1305_ietf_encrypt(datagram.data() + kHeaderSize, &sealed_size, payload.data(),
                                               payload.size(), datagram.data(), kHeaderSize, nullptr,
                                               nonce.data(), key_.bytes().data());
  return datagram;
}

std::optional<DatagramHeader> SecureChannel::peek_header(std::span<const std::uint8_t> datagram) noexcept {
  if (datagram.size() > kMaxDatagram || datagram.size() < kHeaderSize + kTagSize) {
    return std::nullopt;
  }
  const std::uint8_t* d = datagram.data();
  if (d[0] != 'F' || d[1] != 'Q' || d[2] != kVersion || d[3] != 0) {
    return std::nullopt;
  }
  return DatagramHeader{load_le<NodeId>(d + 4), load_le<NodeId>(d + 8), load_le<std::uint64_t>(d + 12),
                        load_le<std::uint64_t>(d + 20)};
}

std::optional<Opened> SecureChannel::open(std::span<const std::uint8_t> datagram) {
  stale_.reset();
  if (datagram.size() > kMaxDatagram) {
    ++drops_.oversized;
    return std::nullopt;
  }
  if (datagram.size() < kHeaderSize + kTagSize) {
    ++drops_.truncated;
    return std::nullopt;
  }
  const auto header = peek_header(datagram);
  if (!header) {
    ++drops_.garbled;
    return std::nullopt;
  }
  Peer* peer = header->sender == self_ ? nullptr : peer_of(header->sender);
  if (peer == nullptr) {
    ++drops_.unknown_peer;
    return std::nullopt;
  }
  if (header->receiver != self_) {
    ++drops_.misdirected;
    return std::nullopt;
  }
  // Authenticate before consulting the replay window, so that `replayed` counts only genuine datagrams
  // and everything an attacker without the key makes counts as `forged`.
  const auto nonce = nonce_of(*header);
  const std::span<const std::uint8_t> sealed = datagram.subspan(kHeaderSize);
  unsigned long long payload_size = 0;
  if (::crypto_aead_xchacha20poly1305_ietf_decrypt(plaintext_.data(), &payload_size, nullptr, sealed.data(),
                                                   sealed.size(), datagram.data(), kHeaderSize, nonce.data(),
                                                   key_.bytes().data()) != 0) {
    ++drops_.forged;
    return std::nullopt;
  }
  ReplayVerdict verdict = peer->window.check(header->epoch, header->counter);
  if (verdict != ReplayVerdict::fresh) {
    ++drops_.replayed;
    ++peer->replayed;
    if (verdict == ReplayVerdict::stale_epoch) {
      stale_ = StaleEpoch{header->sender, header->epoch, peer->window.epoch()};
    }
    return std::nullopt;
  }
  peer->window.commit(header->epoch, header->counter);
  return Opened{header->sender, header->epoch,
                std::span<const std::uint8_t>(plaintext_.data(), static_cast<std::size_t>(payload_size))};
}

}  // namespace fg::quorum
