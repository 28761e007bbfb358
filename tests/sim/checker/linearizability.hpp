#pragma once
// A linearizability checker for a key -> value register, for the histories of the deterministic
// simulation of the quorum register (multi-writer ABD) and of the real-process tests.
//
// A history is a list of operations, each with the time it was invoked (call) and the time its response
// arrived (ret). It is linearizable if every operation can be given a single instant between its call and
// its ret at which it takes effect, such that the operations, run one by one in the order of those instants
// on a plain register, return what they returned. Each key is its own register, initially never written.
//
// Time semantics, stated because the simulation produces ties: operation a is before operation b (so b must
// take effect after a) only if a.ret < b.call strictly. Equal times (a.ret == b.call) count as overlapping,
// so either order is allowed; a clock with coarse ticks therefore never produces a false "not linearizable".
//
// Operations whose outcome is unknown (the client crashed or timed out) have ret == kNeverReturned:
//  - a write that never returned may take effect at any instant after its call, or never (taking effect at
//    the very end of the history is the same as never taking effect);
//  - a read that never returned carries no information and is ignored.
//
// Values are not assumed to be unique: two writes may write the same value, and a read of that value may be
// explained by either. Malformed input (ret < call, a write without a value) is reported as
// not_linearizable with an explanation that names the operation, so a harness bug cannot pass silently.
//
// This header is free of <expected> so that a fuzz target may include it.

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace fg::test::lin {

inline constexpr std::int64_t kNeverReturned = std::numeric_limits<std::int64_t>::max();

struct Operation {
  enum class Kind { read, write };
  Kind kind;
  std::string key;
  // write: the value written. read: the value returned; std::nullopt = the key had never been written.
  std::optional<std::string> value;
  std::int64_t call;  // invocation time (any monotonic unit)
  std::int64_t ret;   // response time; kNeverReturned for an operation whose outcome is unknown
  int client = 0;     // for messages only
};

enum class Verdict { linearizable, not_linearizable, unknown /* search budget exhausted */ };

struct Result {
  Verdict verdict;
  std::string key;          // the first key that failed (or ran out of budget)
  std::string explanation;  // human-readable: the ops of that key that could not be placed, with times/values
  // Search steps taken over all keys checked. Deterministic for a given history, so tests can bound the
  // work the search needed without timing it.
  std::uint64_t steps = 0;
};

// Checks the whole history; each key is an independent register (initial state: never written).
// max_steps bounds the search per key (Porcupine-style timeout); 0 = unbounded.
// Keys are checked in the order of their first operation in `history`. The first key found not
// linearizable decides the result; a key whose budget ran out gives `unknown` only if no other key is
// found not linearizable.
Result check(const std::vector<Operation>& history, std::uint64_t max_steps = 0);

// "linearizable", "not_linearizable" or "unknown", for test messages.
const char* to_string(Verdict verdict) noexcept;

// One operation as a line of text: kind, value, client and times, as the explanations print them.
std::string describe(const Operation& op);

}  // namespace fg::test::lin
