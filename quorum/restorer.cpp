#include "quorum/restorer.hpp"

#include <algorithm>

namespace fg::quorum {

Restorer::Restorer(const Context& context, Millis retry, Millis hold, Done done)
    : context_(context), retry_(retry), hold_(hold), done_(std::move(done)) {}

void Restorer::start() {
  active_ = true;
  // The pages are asked at once all the same: if a majority of the members says it has no state (a new
  // site), nothing was ever acknowledged on a majority and the member starts without waiting.
  pass_start_ = context_.now();
  hold_until_ = pass_start_ + hold_;
  peers_.assign(context_.members.size(), Peer{});
  staging_.clear();
  for (std::size_t i = 0; i < peers_.size(); ++i) {
    if (context_.members[i] != context_.self) {
      ask(i);
    }
  }
  next_send_ = context_.now() + retry_;
  decide();  // a site of one: nothing to ask
}

void Restorer::ask(std::size_t member) {
  Peer& peer = peers_[member];
  peer.request = next_request_++;
  Message request;
  request.type = MessageType::sync_request;
  request.request = peer.request;
  request.key = peer.after;
  context_.send(context_.members[member], std::move(request));
}

void Restorer::on_reply(NodeId from, const Message& reply) {
  std::size_t member = context_.index_of(from);
  if (!active_ || member >= peers_.size() || from == context_.self || reply.request_epoch != context_.epoch) {
    return;
  }
  if (!reply.entries.empty() &&
      std::find(with_state_.begin(), with_state_.end(), from) == with_state_.end()) {
    with_state_.push_back(from);
  }
  Peer& peer = peers_[member];
  bool settled = peer.progress == Progress::complete || peer.progress == Progress::empty;
  if (settled || reply.request != peer.request) {
    return;  // a duplicate or an answer to a page asked before
  }
  if (!reply.initialized) {
    peer.progress = Progress::empty;
    decide();
    return;
  }
  for (const auto& entry : reply.entries) {
    auto [it, inserted] = staging_.try_emplace(entry.key, entry.versioned);
    if (!inserted && it->second.tag < entry.versioned.tag) {
      it->second = entry.versioned;
    }
  }
  if (reply.last_page) {
    peer.progress = Progress::complete;
    decide();
    return;
  }
  peer.progress = Progress::paging;
  if (!reply.entries.empty()) {
    peer.after = reply.entries.back().key;
  }
  ask(member);
}

void Restorer::decide() {
  if (!active_) {
    return;
  }
  std::size_t majority = context_.majority();
  std::string how;
  if (complete_peers() >= majority && pass_start_ < hold_until_) {
    // Read too early: an operation that counted this replica's lost acknowledgements may still be
    // open. Throw the pass away and read every page again once the hold is over.
    ++passes_thrown_away_;
    peers_.assign(context_.members.size(), Peer{});
    staging_.clear();
    pass_start_ = hold_until_;
    next_send_ = hold_until_;
    return;
  }
  std::vector<NodeId> sorted = with_state_;
  std::sort(sorted.begin(), sorted.end());
  std::string holders;
  for (NodeId id : sorted) {
    holders += (holders.empty() ? "" : ", ") + std::to_string(id);
  }
  if (complete_peers() >= majority) {
    how =
        "this member's state was lost (a lost disk, a damaged state directory, or a member new to a "
        "running site), and its peers hold the site's state: restored " +
        std::to_string(staging_.size()) + " keys from " + std::to_string(complete_peers()) + " peers (" +
        holders + ")";
  } else if (empty_peers() + 1 >= majority) {
    how = context_.members.size() == 1
              ? "started empty: a site of one member"
              : "started empty: a majority of the members, this one included, have no state (a new site)";
    if (!with_state_.empty()) {
      how = "started empty: a majority of the members, this one included, have no state, but peer(s) " +
            holders +
            " hold state: a majority of the members lost their disks at once, more than the register "
            "survives; the keys only they hold are not restored here";
    }
  } else {
    return;
  }
  active_ = false;
  next_send_ = Millis::max();
  done_(std::move(staging_), std::move(how));
}

void Restorer::on_timer() {
  if (!active_ || context_.now() < next_send_) {
    return;
  }
  for (std::size_t i = 0; i < peers_.size(); ++i) {
    bool settled = peers_[i].progress == Progress::complete || peers_[i].progress == Progress::empty;
    if (context_.members[i] != context_.self && !settled) {
      ask(i);
    }
  }
  next_send_ = context_.now() + retry_;
}

Millis Restorer::next_deadline() const {
  return active_ ? next_send_ : Millis::max();
}

std::size_t Restorer::complete_peers() const {
  std::size_t n = 0;
  for (const auto& peer : peers_) {
    n += peer.progress == Progress::complete;
  }
  return n;
}

std::size_t Restorer::empty_peers() const {
  std::size_t n = 0;
  for (const auto& peer : peers_) {
    n += peer.progress == Progress::empty;
  }
  return n;
}

}  // namespace fg::quorum
