#pragma once
// Coordinator: the client half of multi-writer ABD. Every gateway coordinates the reads and writes of
// its own users (the gateway's readings, `fieldgate get/put`), against all members including itself.
//
//   write(k, v): phase 1 asks for tags, waits for a majority, takes the highest counter; phase 2 stores
//                (v, (counter + 1, self, epoch)) and returns once a majority acknowledged it durably.
//   read(k):     phase 1 asks for (tag, value), waits for a majority; if a majority of those replies
//                already carry the highest tag, that value is returned after one round trip; otherwise
//                phase 2 writes it back to a majority first, so no later read can return an older value.
//
// Requests are retransmitted with exponential backoff to the members that have not answered, until a
// majority has or the operation's deadline passes; each phase uses a fresh request id, and a reply counts
// only if it matches (member, our epoch, that id) and that member has not been counted yet. With a
// majority unreachable, an operation fails with an error naming who did not answer; a failed write may
// or may not have taken effect (like any timed-out write), a failed read returns nothing. Failures are
// OpError values (error.hpp): OpErrc::no_quorum when nothing was stored, OpErrc::outcome_unknown when a
// write's store phase timed out.
//
// Bounded work: at most `max_in_flight` operations are open at once (more fail at once with
// OpErrc::busy), because anyone who can publish `register/get/<key>` or reach the control socket can ask
// for operations. Each open operation has one entry in a deadline-ordered timeline, so a timer tick
// visits only the operations whose retransmission or deadline is due, not all of them.

#include <cstdint>
#include <expected>
#include <functional>
#include <map>
#include <set>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "quorum/context.hpp"
#include "quorum/error.hpp"

namespace fg::quorum {

struct CoordinatorOptions {
  Millis op_timeout{2000};
  Millis initial_retransmit{20};
  Millis max_retransmit{400};
  // Operations open at once; one more fails at once with OpErrc::busy. A gateway keeps at most one
  // write per register key in flight (Replication) plus what users ask through the control socket and
  // MQTT, so a site with hundreds of channels stays well below 1,024. The cap bounds what a flood can
  // cost: memory (at most ~1.3 KB of key and value per operation, ~1.4 MB in all) and the retransmission
  // traffic to the peers, which grows with the operations open.
  std::size_t max_in_flight = 1024;
  // Only for the simulation's mutation test: returns reads after phase 1 even when fewer than a majority
  // hold the newest tag. That breaks linearizability, and the suite checks that it notices.
  bool unsafe_skip_read_write_back = false;
};

struct CoordinatorCounters {
  std::uint64_t reads = 0;
  std::uint64_t writes = 0;
  std::uint64_t reads_with_write_back = 0;
  std::uint64_t failed = 0;
  std::uint64_t retransmissions = 0;
  std::uint64_t stray_replies = 0;  // late, duplicated or unmatched: ignored
  std::uint64_t busy = 0;           // refused at once: max_in_flight operations were open
  // Operations the timer path looked at (each due retransmission or deadline is one visit). A tick
  // visits only what is due, so this grows with the work done, never with the operations merely open.
  std::uint64_t timer_visits = 0;
};

class Coordinator {
 public:
  using ReadDone = std::function<void(OpResult<Versioned>)>;
  using WriteDone = std::function<void(OpResult<Tag>)>;
  // A finished operation's callback, to be run by Core outside of any iteration over internal state.
  using Completion = std::function<void()>;

  Coordinator(const Context& context, CoordinatorOptions options, std::function<void(Completion)> complete);

  void read(std::string key, ReadDone done);
  void write(std::string key, std::string value, WriteDone done);

  void on_reply(NodeId from, const Message& reply);
  void on_timer();
  Millis next_deadline() const;  // Millis::max() when idle

  std::size_t in_flight() const { return ops_.size(); }
  const CoordinatorCounters& counters() const { return counters_; }

 private:
  enum class Kind { read, write };
  struct Op {
    Kind kind = Kind::read;
    std::string key;
    std::string value;  // write: the value to store
    int phase = 1;
    std::uint64_t request = 0;  // of the current phase
    std::vector<bool> answered;
    std::size_t answers = 0;
    Versioned best;              // phase 1: highest (tag, value) seen
    std::size_t best_count = 0;  // read phase 1: replies carrying best.tag
    Millis deadline{};
    Millis next_send{};
    Millis backoff{};
    Millis wake{};  // its key in timeline_: min(deadline, next_send)
    ReadDone read_done;
    WriteDone write_done;
  };

  // Why an operation on `key` cannot start (an invalid key, or max_in_flight reached), counted as failed;
  // nothing when it can. Only the refusal path builds anything: the common path costs one check.
  std::optional<OpError> refusal(const std::string& key);
  void start(Op op);
  void send_phase(Op& op, bool retransmission);
  void reschedule(Op& op);
  void begin_phase2(Op& op, Versioned versioned);
  void finish(std::uint64_t request);
  void fail(std::uint64_t request, OpError error);
  OpError describe_missing(const Op& op) const;

  const Context& context_;
  CoordinatorOptions options_;
  std::function<void(Completion)> complete_;
  std::unordered_map<std::uint64_t, Op> ops_;  // by current request id
  // One entry (wake, request id) per open operation, earliest first: what the timer path walks.
  std::set<std::pair<Millis, std::uint64_t>> timeline_;
  // The highest counter this incarnation used per key: two concurrent writes of ours to one key that read
  // the same highest counter must still get different tags.
  std::unordered_map<std::string, std::uint64_t> last_counter_;
  std::uint64_t next_request_ = 1;
  CoordinatorCounters counters_;
};

}  // namespace fg::quorum
