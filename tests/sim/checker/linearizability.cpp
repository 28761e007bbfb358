// The algorithm: Wing & Gong's search for a linearization, with Lowe's just-in-time linearization and
// memoisation of visited configurations, as Porcupine does it.
//
// The operations of one key become 2n events (each call and each return), sorted by time, in a doubly
// linked list. The search walks the list from its head:
//  - At a call event, it tries to make that operation take effect now: it applies the operation to the
//    model register (a write always succeeds and sets the value; a read succeeds only if the register holds
//    the value the read returned). If that succeeds and the resulting configuration is new, it pushes the
//    operation on an explicit stack, "lifts" its call and return events out of the list and starts again
//    at the head. Otherwise it moves on to the next event: some other pending operation may go first.
//  - At a return event, the operation that returned there has not taken effect yet, and every operation
//    still in the list after it was called after that return, so nothing later can help: the current
//    prefix is a dead end. The search pops the last operation placed, "unlifts" its events back into the
//    list (the list is a dancing-links structure, so undoing in stack order restores it exactly) and tries
//    the event after it.
// The history is linearizable when the list becomes empty (every operation placed), and not linearizable
// when a return event is reached with nothing left to pop. Only operations whose call precedes the first
// return in the list are ever tried, which is Lowe's "just in time" idea: an operation is linearized only
// when something forces a decision, so the search never guesses an order for operations far in the future.
//
// Memoisation: a configuration is fully described by (the set of operations placed, the register's value).
// Two different orders that place the same set and leave the same value have the same future, so the
// search records every configuration it enters and never enters one twice. That turns the exponential
// number of orders into at most (number of reachable sets) x (number of values), which for histories with
// bounded concurrency is small. The set is a bitset of std::uint64_t words; values are interned to small
// integers per key so that the state compares and hashes cheaply.
//
// The search is iterative (an explicit stack of placed operations), so a history of any depth cannot
// overflow the C++ stack.
//
// Why per key: each key of the register is an independent object, and linearizability is local
// (Herlihy & Wing): a history is linearizable iff its restriction to every object is. Checking keys apart
// keeps every search small (the cost is exponential in the concurrency of one key, not of the whole
// history) and makes an explanation name the one key that went wrong.
//
// Known limits: the memo holds one bitset of n/64 words per configuration visited, so memory grows with
// (operations of the key) x (configurations visited); a few thousand operations per key, with the modest
// concurrency of a simulated cluster, is the design point. Highly concurrent histories can still take
// exponential time, which is what max_steps is for.

#include "tests/sim/checker/linearizability.hpp"

#include <algorithm>
#include <cstddef>
#include <map>
#include <tuple>
#include <unordered_set>
#include <utility>

namespace fg::test::lin {
namespace {

// The value of a register interned to a small integer; kNeverWritten is the initial state.
using ValueId = std::int32_t;
constexpr ValueId kNeverWritten = -1;
constexpr std::int32_t kNone = -1;

class Bitset {
 public:
  explicit Bitset(std::size_t bits) : words_((bits + 63) / 64, 0) {}

  void set(std::size_t bit) { words_[bit / 64] |= std::uint64_t{1} << (bit % 64); }
  void clear(std::size_t bit) { words_[bit / 64] &= ~(std::uint64_t{1} << (bit % 64)); }

  std::uint64_t hash() const noexcept {
    std::uint64_t h = 0x243f6a8885a308d3u;
    for (std::uint64_t word : words_) {
      h = (h ^ word) * 0x9e3779b97f4a7c15u;
      h ^= h >> 29;
    }
    return h;
  }

  bool operator==(const Bitset&) const = default;

 private:
  std::vector<std::uint64_t> words_;
};

// One configuration of the search: which operations have taken effect, and the register's value after them.
struct Configuration {
  Bitset placed;
  ValueId state;

  bool operator==(const Configuration&) const = default;
};

struct ConfigurationHash {
  std::size_t operator()(const Configuration& c) const noexcept {
    return static_cast<std::size_t>(c.placed.hash() ^
                                    (static_cast<std::uint64_t>(c.state) * 0xff51afd7ed558ccdu));
  }
};

// An operation of one key, with its value interned.
struct KeyOp {
  const Operation* source;
  bool is_write;
  ValueId value;
};

// A call or return event in the linked list. Index 0 is the head sentinel; kNone ends the list.
struct Event {
  std::int32_t op = kNone;
  std::int32_t match = kNone;  // for a call event: its return event; kNone for a return event
  std::int32_t prev = kNone;
  std::int32_t next = kNone;
};

class EventList {
 public:
  // Builds the list in time order. At equal times calls come before returns, so an operation that returns
  // at t and one called at t overlap (see the header's time semantics).
  explicit EventList(const std::vector<KeyOp>& ops) : events_(1 + 2 * ops.size()) {
    struct Point {
      std::int64_t time;
      bool is_return;
      std::int32_t op;
      bool operator<(const Point& o) const {
        return std::tie(time, is_return, op) < std::tie(o.time, o.is_return, o.op);
      }
    };
    std::vector<Point> points;
    points.reserve(2 * ops.size());
    for (std::size_t i = 0; i < ops.size(); ++i) {
      const auto op = static_cast<std::int32_t>(i);
      points.push_back({ops[i].source->call, false, op});
      points.push_back({ops[i].source->ret, true, op});
    }
    std::sort(points.begin(), points.end());

    std::vector<std::int32_t> call_event(ops.size(), kNone);
    for (std::size_t i = 0; i < points.size(); ++i) {
      const auto index = static_cast<std::int32_t>(i + 1);
      Event& e = events_[index];
      e.op = points[i].op;
      e.prev = index - 1;
      e.next = i + 1 < points.size() ? index + 1 : kNone;
      if (points[i].is_return) {
        events_[call_event[e.op]].match = index;
      } else {
        call_event[e.op] = index;
      }
    }
    events_[0].next = points.empty() ? kNone : 1;
  }

  const Event& operator[](std::int32_t index) const { return events_[index]; }
  std::int32_t first() const { return events_[0].next; }

  // Takes a call event and its return event out of the list. A call event is never last (its return
  // follows it), so only the return event may lack a successor.
  void lift(std::int32_t call) {
    const Event& c = events_[call];
    events_[c.prev].next = c.next;
    events_[c.next].prev = c.prev;
    const Event& r = events_[c.match];
    events_[r.prev].next = r.next;
    if (r.next != kNone) {
      events_[r.next].prev = r.prev;
    }
  }

  // Puts back what lift(call) took out; valid because lifts are undone in reverse order.
  void unlift(std::int32_t call) {
    const Event& c = events_[call];
    const Event& r = events_[c.match];
    events_[r.prev].next = c.match;
    if (r.next != kNone) {
      events_[r.next].prev = c.match;
    }
    events_[c.prev].next = call;
    events_[c.next].prev = call;
  }

 private:
  std::vector<Event> events_;
};

std::string quoted(const std::string& bytes) {
  constexpr std::size_t kShown = 40;
  std::string out = "\"";
  for (std::size_t i = 0; i < bytes.size() && i < kShown; ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  if (bytes.size() > kShown) {
    out += "...";
  }
  return out + "\"";
}

std::string describe_value(const std::optional<std::string>& value) {
  return value ? quoted(*value) : std::string("(never written)");
}

// What the search saw at its deepest dead end, for the explanation.
struct DeadEnd {
  std::size_t placed = 0;
  ValueId state = kNeverWritten;
  std::vector<std::int32_t> candidates;   // operations that could have been next; none worked
  std::int32_t blocking = kNone;          // the operation whose return forced the decision
  std::vector<std::int32_t> last_placed;  // the last few operations placed, oldest first
};

struct KeyOutcome {
  Verdict verdict;
  std::string explanation;
  std::uint64_t steps;
};

class KeyChecker {
 public:
  KeyChecker(const std::string& key, const std::vector<const Operation*>& ops) : key_(key) {
    ops_.reserve(ops.size());
    for (const Operation* op : ops) {
      ops_.push_back({op, op->kind == Operation::Kind::write, intern(op->value)});
    }
  }

  KeyOutcome run(std::uint64_t max_steps) {
    EventList list(ops_);
    std::unordered_set<Configuration, ConfigurationHash> seen;
    Configuration current{Bitset(ops_.size()), kNeverWritten};
    std::vector<Placed> stack;
    std::uint64_t steps = 0;
    std::size_t deepest = 0;
    DeadEnd dead_end;
    bool have_dead_end = false;

    std::int32_t at = list.first();
    while (list.first() != kNone) {
      if (max_steps != 0 && steps >= max_steps) {
        return {Verdict::unknown, gave_up(steps, max_steps, deepest), steps};
      }
      ++steps;
      const Event& event = list[at];
      if (event.match != kNone) {
        // A call event: try to let this operation take effect now.
        const KeyOp& op = ops_[event.op];
        if (op.is_write || op.value == current.state) {
          const ValueId before = current.state;
          current.placed.set(event.op);
          current.state = op.is_write ? op.value : before;
          if (seen.insert(current).second) {
            stack.push_back({at, before});
            deepest = std::max(deepest, stack.size());
            list.lift(at);
            at = list.first();
            continue;
          }
          current.placed.clear(event.op);
          current.state = before;
        }
        at = event.next;
      } else {
        // A return event: its operation can wait no longer and nothing before it worked, so undo the last
        // placement. The deepest dead end is where the history stops making sense, so it is the one the
        // explanation shows; describing it walks only the few events before `at`.
        if (!have_dead_end || stack.size() > dead_end.placed) {
          dead_end = describe_dead_end(list, at, current.state, stack);
          have_dead_end = true;
        }
        if (stack.empty()) {
          return {Verdict::not_linearizable, not_linearizable(dead_end), steps};
        }
        const Placed top = stack.back();
        stack.pop_back();
        current.state = top.state_before;
        current.placed.clear(list[top.call].op);
        list.unlift(top.call);
        at = list[top.call].next;
      }
    }
    return {Verdict::linearizable, {}, steps};
  }

 private:
  // An operation placed by the search, with what is needed to undo it.
  struct Placed {
    std::int32_t call;  // its call event
    ValueId state_before;
  };

  ValueId intern(const std::optional<std::string>& value) {
    if (!value) {
      return kNeverWritten;
    }
    auto [it, inserted] = value_ids_.try_emplace(*value, static_cast<ValueId>(value_ids_.size()));
    if (inserted) {
      values_.push_back(&it->first);
    }
    return it->second;
  }

  std::string describe_state(ValueId state) const {
    return state == kNeverWritten ? std::string("(never written)") : quoted(*values_[state]);
  }

  DeadEnd describe_dead_end(const EventList& list, std::int32_t at, ValueId state,
                            const std::vector<Placed>& stack) const {
    DeadEnd d;
    d.placed = stack.size();
    d.state = state;
    for (std::int32_t e = list.first(); e != at; e = list[e].next) {
      if (list[e].match != kNone) {
        d.candidates.push_back(list[e].op);
      }
    }
    d.blocking = list[at].op;
    constexpr std::size_t kContext = 5;
    for (std::size_t i = stack.size() > kContext ? stack.size() - kContext : 0; i < stack.size(); ++i) {
      d.last_placed.push_back(list[stack[i].call].op);
    }
    return d;
  }

  std::string not_linearizable(const DeadEnd& d) const {
    std::string out = "key " + quoted(key_) + ": not linearizable (" + std::to_string(ops_.size()) +
                      " operations). The longest legal order found places " + std::to_string(d.placed) +
                      " of them";
    if (d.last_placed.empty()) {
      out += ".\n";
    } else {
      out += "; its last ones, oldest first:\n";
      for (std::int32_t op : d.last_placed) {
        out += "  " + describe(*ops_[op].source) + "\n";
      }
    }
    out += "After them the register holds " + describe_state(d.state) +
           ". The next operation to take effect must be one of these, because the one marked * returns "
           "next; but each contradicts that value or leads to a dead end:\n";
    for (std::int32_t op : d.candidates) {
      out += (op == d.blocking ? "* " : "  ") + describe(*ops_[op].source) + "\n";
    }
    return out;
  }

  std::string gave_up(std::uint64_t steps, std::uint64_t max_steps, std::size_t deepest) const {
    return "key " + quoted(key_) + ": search gave up after " + std::to_string(steps) + " steps (max_steps " +
           std::to_string(max_steps) + "); at most " + std::to_string(deepest) + " of its " +
           std::to_string(ops_.size()) + " operations had been placed in a legal order.";
  }

  std::string key_;
  std::vector<KeyOp> ops_;
  std::map<std::string, ValueId> value_ids_;
  std::vector<const std::string*> values_;  // by ValueId; points into value_ids_, whose nodes never move
};

// Returns why `op` cannot be checked at all, or nothing if it is well-formed.
std::optional<std::string> malformed(const Operation& op) {
  if (op.ret < op.call) {
    return "returns before it is called";
  }
  if (op.kind == Operation::Kind::write && !op.value) {
    return "is a write without a value";
  }
  return std::nullopt;
}

}  // namespace

const char* to_string(Verdict verdict) noexcept {
  switch (verdict) {
    case Verdict::linearizable:
      return "linearizable";
    case Verdict::not_linearizable:
      return "not_linearizable";
    case Verdict::unknown:
      return "unknown";
  }
  return "?";
}

std::string describe(const Operation& op) {
  std::string out = op.kind == Operation::Kind::write ? "write " + describe_value(op.value)
                                                      : "read -> " + describe_value(op.value);
  out += " (client " + std::to_string(op.client) + ", call " + std::to_string(op.call) + ", ret ";
  out += op.ret == kNeverReturned ? std::string("never") : std::to_string(op.ret);
  return out + ")";
}

Result check(const std::vector<Operation>& history, std::uint64_t max_steps) {
  // Partition by key, keeping the order in which keys first appear. Reads that never returned are
  // dropped here: they constrain nothing.
  std::vector<std::string> keys;
  std::map<std::string, std::vector<const Operation*>> by_key;
  for (const Operation& op : history) {
    if (auto why = malformed(op)) {
      return {Verdict::not_linearizable, op.key, "malformed operation: " + describe(op) + " " + *why + ".",
              0};
    }
    auto [it, inserted] = by_key.try_emplace(op.key);
    if (inserted) {
      keys.push_back(op.key);
    }
    if (op.kind == Operation::Kind::read && op.ret == kNeverReturned) {
      continue;
    }
    it->second.push_back(&op);
  }

  Result result{Verdict::linearizable, {}, {}, 0};
  for (const std::string& key : keys) {
    KeyOutcome outcome = KeyChecker(key, by_key[key]).run(max_steps);
    result.steps += outcome.steps;
    if (outcome.verdict == Verdict::not_linearizable) {
      result.verdict = outcome.verdict;
      result.key = key;
      result.explanation = std::move(outcome.explanation);
      return result;
    }
    if (outcome.verdict == Verdict::unknown && result.verdict == Verdict::linearizable) {
      result.verdict = outcome.verdict;
      result.key = key;
      result.explanation = std::move(outcome.explanation);
    }
  }
  return result;
}

}  // namespace fg::test::lin
