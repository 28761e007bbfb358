#pragma once
// Restorer: how a replica without state (a new SD card, a corrupt snapshot set aside, or a brand-new
// site) becomes a replica again without breaking quorum intersection.
//
// It pages through the entries of the other members (sync requests, one datagram per page, each page
// asked again until answered) and keeps the highest tag per key. It may serve again once it has read
// every entry of a majority of the members not counting itself: a write that completed before it lost
// its disk is on a majority, of which at most itself is gone, and any majority of the others meets the
// rest. A new site has no state anywhere: when a majority of the members, itself included, report that
// they have no state either, it starts empty. (If a majority really lost their disks at once, more
// failed than a majority quorum tolerates, and nothing can recover what is gone.)
//
// The hold (issue 10): an acknowledgement this replica's lost disk sent may still sit in a coordinator's
// open operation; counted after the restore has read the peers, it would complete a write that neither
// the restore nor, perhaps, a majority holds. So the entries a restore keeps must all be read after every
// operation open when the process started has ended: the pages are asked for only once `hold` (longer
// than any operation's timeout) has passed since start(); a restore that completed earlier is thrown
// away and read again. Every coordinator ignores replies after its operation's deadline (coordinator.cpp),
// so after the hold none can count the lost disk's acknowledgements. The argument and its clock assumption
// are in docs/quorum.md ("A lost disk never counts").

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "quorum/context.hpp"
#include "quorum/storage.hpp"

namespace fg::quorum {

class Restorer {
 public:
  using Done = std::function<void(Entries restored, std::string how)>;

  Restorer(const Context& context, Millis retry, Millis hold, Done done);

  void start();
  bool active() const { return active_; }
  void on_reply(NodeId from, const Message& reply);
  void on_timer();
  Millis next_deadline() const;  // Millis::max() when inactive

  // For status: members whose entries were fully read / that said they had no state.
  std::size_t complete_peers() const;
  std::size_t empty_peers() const;
  // Restores read completely before the hold ended, and so read again.
  std::uint64_t passes_thrown_away() const { return passes_thrown_away_; }
  // Whether a peer sent entries: then this member lost its own (a lost disk, or a member new to a
  // running site), which the log says loudly. Members of a new site that started empty a moment before
  // this one have none to send.
  bool peers_had_state() const { return !with_state_.empty(); }

 private:
  enum class Progress { waiting, paging, complete, empty };
  struct Peer {
    Progress progress = Progress::waiting;
    std::string after;  // next page starts after this key
    std::uint64_t request = 0;
  };

  void ask(std::size_t member);
  void decide();

  const Context& context_;
  Millis retry_;
  Millis hold_;
  Millis hold_until_{};  // start() + hold_: no page asked before it counts for a restore
  Millis pass_start_{};  // when the current pass asked its first pages
  std::uint64_t passes_thrown_away_ = 0;
  Done done_;
  bool active_ = false;
  std::vector<Peer> peers_;  // by member index; self stays `waiting`
  Entries staging_;
  std::vector<NodeId> with_state_;  // the peers that sent entries, in the order they did
  Millis next_send_{Millis::max()};
  std::uint64_t next_request_ = 1ull << 63;  // apart from the coordinator's ids, for readable traces
};

}  // namespace fg::quorum
