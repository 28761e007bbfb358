#include "quorum/peer_monitor.hpp"


namespace fg::quorum {

PeerMonitor::PeerMonitor(const Context& context, PeerTiming timing)
    : context_(context), timing_(timing), peers_(context.members.size()) {}

void PeerMonitor::heard_from(NodeId from) {
  if (auto i = context_.index_of(from); i < peers_.size()) {
    peers_[i].last_heard = context_.now();
  }
}

void PeerMonitor::on_ping(NodeId from, const Message& ping, ReplicaState state) {
  if (auto i = context_.index_of(from); i < peers_.size()) {
    peers_[i].state = ping.state;
  }
  Message pong;
  pong.type = MessageType::pong;
  pong.nonce = ping.nonce;
  pong.state = state;
  context_.send(from, std::move(pong));
}

void PeerMonitor::on_pong(NodeId from, const Message& pong) {
  auto i = context_.index_of(from);
  Millis now = context_.now();
  if (i >= peers_.size() || pong.nonce > static_cast<std::uint64_t>(now.count())) {
    return;
  }
  peers_[i].state = pong.state;
  double sample = static_cast<double>(now.count() - static_cast<std::int64_t>(pong.nonce));
  auto& rtt = peers_[i].smoothed_rtt_ms;
  rtt = rtt ? 0.875 * *rtt + 0.125 * sample : sample;  // RFC 6298's smoothing
}

void PeerMonitor::on_timer(ReplicaState state) {
  Millis now = context_.now();
  if (now < next_ping_) {
    return;
  }
  next_ping_ = now + timing_.interval;
  for (NodeId member : context_.members) {
    if (member == context_.self) {
      continue;
    }
    Message ping;
    ping.type = MessageType::ping;
    ping.nonce = static_cast<std::uint64_t>(now.count());
    ping.state = state;
    context_.send(member, std::move(ping));
  }
}

std::vector<PeerStatus> PeerMonitor::status() const {
  std::vector<PeerStatus> out;
  Millis now = context_.now();
  for (std::size_t i = 0; i < peers_.size(); ++i) {
    if (context_.members[i] == context_.self) {
      continue;
    }
    const Peer& peer = peers_[i];
    PeerStatus status;
    status.node = context_.members[i];
    status.state = peer.state;
    if (peer.last_heard) {
      status.last_heard_ago = now - *peer.last_heard;
      status.up = *status.last_heard_ago < timing_.down_after;
    }
    if (peer.smoothed_rtt_ms) {
      // Rounded by hand: std::lround is the one call that would make fieldgate load libm (0.3 MiB).
      status.round_trip = Millis(static_cast<std::int64_t>(*peer.smoothed_rtt_ms + 0.5));
    }
    out.push_back(status);
  }
  return out;
}

}  // namespace fg::quorum
