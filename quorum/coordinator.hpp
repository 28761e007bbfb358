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
// or may not have taken effect (like any timed-out write), a failed read returns nothing.

#include <cstdint>
#include <expected>
#include <functional>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "quorum/context.hpp"

namespace fg::quorum {

struct CoordinatorOptions {
  Millis op_timeout{2000};
  Millis initial_retransmit{20};
  Millis max_retransmit{400};
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
};

class Coordinator {
 public:
  using ReadDone = std::function<void(std::expected<Versioned, std::string>)>;
  using WriteDone = std::function<void(std::expected<Tag, std::string>)>;
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
    ReadDone read_done;
    WriteDone write_done;
  };

  void start(Op op);
  void send_phase(Op& op, bool retransmission);
  void begin_phase2(Op& op, Versioned versioned);
  void finish(std::uint64_t request);
  void fail(std::uint64_t request, const std::string& why);
  std::string describe_missing(const Op& op) const;

  const Context& context_;
  CoordinatorOptions options_;
  std::function<void(Completion)> complete_;
  std::unordered_map<std::uint64_t, Op> ops_;  // by current request id
  // The highest counter this incarnation used per key: two concurrent writes of ours to one key that read
  // the same highest counter must still get different tags.
  std::unordered_map<std::string, std::uint64_t> last_counter_;
  std::uint64_t next_request_ = 1;
  CoordinatorCounters counters_;
};

}  // namespace fg::quorum
