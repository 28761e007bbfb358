#include "quorum/udp_transport.hpp"

#include <algorithm>
#include <utility>

namespace fg::quorum {
namespace {

std::vector<NodeId> ids_of(const std::vector<PeerEndpoint>& peers) {
  std::vector<NodeId> ids;
  ids.reserve(peers.size());
  for (const auto& peer : peers) {
    ids.push_back(peer.id);
  }
  return ids;
}

}  // namespace

UdpTransport::UdpTransport(loop::Loop& loop, const SiteKey& key, NodeId self, std::uint64_t epoch,
                           std::vector<PeerEndpoint> peers)
    : loop_(loop), socket_(loop), channel_(key, self, epoch, ids_of(peers)), peers_(std::move(peers)) {}

std::error_code UdpTransport::bind(const sockaddr& address) {
  if (auto ec = socket_.bind(address)) {
    return ec;
  }
  // The socket lives in this object, which is not movable, so capturing `this` is safe; a datagram that
  // arrives after close() finds no owner (uv_handle.hpp) and is never delivered.
  return socket_.start_receiving(
      [this](std::span<const std::uint8_t> datagram, const sockaddr&) { handle_datagram(datagram); });
}

void UdpTransport::on_receive(Receiver receiver) {
  receiver_ = std::move(receiver);
}

void UdpTransport::set_blocked_peers(std::vector<NodeId> peers) {
  blocked_ = std::move(peers);
}

void UdpTransport::set_large_drop(LargeDrop fault) {
  large_drop_ = std::move(fault);
  large_drop_since_.reset();
}

bool UdpTransport::drops_large(NodeId to, std::size_t bytes) {
  if (bytes < large_drop_.min_bytes ||
      std::find(large_drop_.peers.begin(), large_drop_.peers.end(), to) == large_drop_.peers.end()) {
    return false;
  }
  std::chrono::milliseconds now = loop_.now();
  if (!large_drop_since_) {
    large_drop_since_ = now;
  }
  return now - *large_drop_since_ < large_drop_.duration;
}

bool UdpTransport::is_blocked(NodeId id) const noexcept {
  return std::find(blocked_.begin(), blocked_.end(), id) != blocked_.end();
}

const PeerEndpoint* UdpTransport::peer(NodeId id) const noexcept {
  if (id == channel_.self()) {
    return nullptr;
  }
  auto it = std::find_if(peers_.begin(), peers_.end(), [id](const PeerEndpoint& p) { return p.id == id; });
  return it == peers_.end() ? nullptr : &*it;
}

bool UdpTransport::set_peer_address(NodeId id, const sockaddr_storage& address) {
  if (id == channel_.self()) {
    return false;
  }
  for (auto& p : peers_) {
    if (p.id == id) {
      p.address = address;
      return true;
    }
  }
  return false;
}

void UdpTransport::send(NodeId to, std::span<const std::uint8_t> payload) {
  const PeerEndpoint* destination = peer(to);
  if (destination == nullptr || payload.size() > max_payload()) {
    ++counters_.send_errors;
    return;
  }
  if (is_blocked(to)) {
    ++counters_.blocked_sent;
    return;
  }
  if (drops_large(to, payload.size())) {
    ++counters_.large_dropped;
    return;
  }
  const std::vector<std::uint8_t> datagram = channel_.seal(to, payload);
  if (datagram.empty()) {
    ++counters_.send_errors;
    return;
  }
  if (socket_.send(reinterpret_cast<const sockaddr&>(destination->address), datagram)) {
    ++counters_.send_errors;
    return;
  }
  ++counters_.sent;
}

void UdpTransport::handle_datagram(std::span<const std::uint8_t> datagram) {
  if (auto header = SecureChannel::peek_header(datagram); header && is_blocked(header->sender)) {
    ++counters_.blocked_received;
    return;
  }
  auto opened = channel_.open(datagram);
  if (!opened) {
    if (auto stale = channel_.take_stale_epoch()) {
      notice_stale_epoch(*stale);
    }
    return;
  }
  ++counters_.received;
  if (handle_notice(opened->from, opened->payload)) {
    return;
  }
  if (!receiver_) {
    return;
  }
  // The last thing done here, on a copy: the receiver may replace itself or destroy this transport (a
  // receiver that destroys it must not touch the payload afterwards, which lives in the channel).
  auto receiver = receiver_;
  receiver(opened->from, opened->epoch, opened->payload);
}

void UdpTransport::notice_stale_epoch(const StaleEpoch& stale) {
  constexpr std::chrono::milliseconds kNoticeInterval{250};
  std::chrono::milliseconds now = loop_.now();
  auto last = std::find_if(last_notice_.begin(), last_notice_.end(),
                           [&](const auto& entry) { return entry.first == stale.from; });
  if (last != last_notice_.end() && now - last->second < kNoticeInterval) {
    return;
  }
  if (last == last_notice_.end()) {
    last_notice_.emplace_back(stale.from, now);
  } else {
    last->second = now;
  }
  // kEpochNotice | the epoch the stale datagram carried, u64 | the newest epoch seen, u64
  std::vector<std::uint8_t> payload{kEpochNotice};
  for (std::uint64_t value : {stale.sent, stale.seen}) {
    for (int i = 0; i < 8; ++i) {
      payload.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
    }
  }
  ++counters_.epoch_notices_sent;
  send(stale.from, payload);
}

bool UdpTransport::handle_notice(NodeId from, std::span<const std::uint8_t> payload) {
  if (payload.empty() || payload[0] != kEpochNotice) {
    return false;
  }
  if (payload.size() != 17) {
    return true;  // a notice of another layout: not for the receiver either
  }
  auto u64_at = [&](std::size_t at) {
    std::uint64_t value = 0;
    for (int i = 0; i < 8; ++i) {
      value |= static_cast<std::uint64_t>(payload[at + i]) << (8 * i);
    }
    return value;
  };
  std::uint64_t sent = u64_at(1);
  std::uint64_t seen = u64_at(9);
  if (sent == channel_.epoch() && seen >= sent && epoch_behind_) {
    ++counters_.epoch_notices_received;
    epoch_behind_(from, seen);
  }
  return true;
}

const TransportCounters& UdpTransport::counters() const noexcept {
  counters_.channel = channel_.drops();
  counters_.receive_truncated = socket_.counters().truncated;
  counters_.receive_errors = socket_.counters().receive_errors;
  return counters_;
}

}  // namespace fg::quorum
