// Tests of the linearizability checker: hand-written histories for each rule, large generated histories
// (accepted, and rejected once one read is made stale), the search budget, and a brute-force reference
// that tries every order of small random histories and must agree with check() on every one.

#include "tests/sim/checker/linearizability.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <map>
#include <numeric>
#include <random>

namespace {

using fg::test::lin::check;
using fg::test::lin::kNeverReturned;
using fg::test::lin::Operation;
using fg::test::lin::Result;
using fg::test::lin::Verdict;
using History = std::vector<Operation>;

Operation write(std::string value, std::int64_t call, std::int64_t ret, std::string key = "k",
                int client = 0) {
  return {Operation::Kind::write, std::move(key), std::move(value), call, ret, client};
}

Operation read(std::optional<std::string> value, std::int64_t call, std::int64_t ret, std::string key = "k",
               int client = 0) {
  return {Operation::Kind::read, std::move(key), std::move(value), call, ret, client};
}

// Formats a verdict with its explanation, so a failed expectation shows why the checker decided.
std::string verdict_of(const Result& result) {
  std::string out = fg::test::lin::to_string(result.verdict);
  if (!result.explanation.empty()) {
    out += "\n" + result.explanation;
  }
  return out;
}

void expect_linearizable(const History& history) {
  const Result result = check(history);
  EXPECT_EQ(result.verdict, Verdict::linearizable) << verdict_of(result);
}

void expect_rejected(const History& history) {
  const Result result = check(history);
  EXPECT_EQ(result.verdict, Verdict::not_linearizable) << verdict_of(result);
  EXPECT_FALSE(result.explanation.empty());
}

TEST(Linearizability, EmptyHistoryIsLinearizable) {
  const Result result = check({});
  EXPECT_EQ(result.verdict, Verdict::linearizable) << verdict_of(result);
  EXPECT_EQ(result.key, "");
  EXPECT_EQ(result.explanation, "");
}

TEST(Linearizability, SequentialWritesAndReadsAreLinearizable) {
  expect_linearizable({
      read(std::nullopt, 0, 1),
      write("a", 2, 3),
      read("a", 4, 5),
      write("b", 6, 7),
      read("b", 8, 9),
  });
}

TEST(Linearizability, ConcurrentWritesMayBeObservedInEitherOrder) {
  // Both writes overlap, so after both the register holds whichever took effect last.
  expect_linearizable({write("a", 0, 10, "k", 1), write("b", 0, 10, "k", 2), read("a", 20, 30)});
  expect_linearizable({write("a", 0, 10, "k", 1), write("b", 0, 10, "k", 2), read("b", 20, 30)});
  // Reads during the writes may see b first and then a (b took effect, then a).
  expect_linearizable(
      {write("a", 0, 10, "k", 1), write("b", 0, 10, "k", 2), read("b", 1, 2), read("a", 3, 4)});
  // But once both writes are done, the order is fixed: later reads cannot flip between the values.
  expect_rejected(
      {write("a", 0, 10, "k", 1), write("b", 0, 10, "k", 2), read("a", 20, 30), read("b", 40, 50)});
}

TEST(Linearizability, ReadOfAValueNeverWrittenIsRejected) {
  expect_rejected({write("a", 0, 10), read("z", 5, 15)});
}

TEST(Linearizability, StaleReadAfterACompletedWriteIsRejected) {
  const History history{write("a", 0, 1), write("b", 2, 3), read("a", 4, 5, "k", 7)};
  const Result result = check(history);
  EXPECT_EQ(result.verdict, Verdict::not_linearizable) << verdict_of(result);
  EXPECT_EQ(result.key, "k");
  // The explanation names the read that cannot be placed, with its value and times, and marks it as the
  // one whose return forced the decision.
  EXPECT_NE(result.explanation.find("* read -> \"a\" (client 7, call 4, ret 5)"), std::string::npos)
      << result.explanation;
  // The same read overlapping the second write is fine.
  expect_linearizable({write("a", 0, 1), write("b", 2, 6), read("a", 4, 5)});
}

TEST(Linearizability, NewOldInversionIsRejected) {
  // Two sequential reads, both concurrent with the write of b: the first sees the new value, the second
  // the old one.
  expect_rejected({write("a", 0, 1), write("b", 10, 100), read("b", 20, 30), read("a", 40, 50)});
  // Old then new is the legal way round.
  expect_linearizable({write("a", 0, 1), write("b", 10, 100), read("a", 20, 30), read("b", 40, 50)});
}

TEST(Linearizability, ReadOfNeverWrittenAfterACompletedWriteIsRejected) {
  expect_rejected({write("a", 0, 1), read(std::nullopt, 2, 3)});
  // Overlapping the first write, the read may still see the register never written.
  expect_linearizable({write("a", 0, 3), read(std::nullopt, 2, 4)});
}

TEST(Linearizability, EqualTimesCountAsOverlapping) {
  // The write returns at 10 and the read is called at 10: concurrent, so the read may precede the write.
  expect_linearizable({write("a", 0, 10), read(std::nullopt, 10, 20)});
  // One tick later the write is strictly before the read.
  expect_rejected({write("a", 0, 10), read(std::nullopt, 11, 20)});
}

TEST(Linearizability, WriteThatNeverReturnedMayBeObservedLater) {
  expect_linearizable({write("a", 0, kNeverReturned), read("a", 100, 110)});
  // ... and may take effect late: not yet seen by one read, seen by a later one.
  expect_linearizable({write("a", 0, kNeverReturned), read(std::nullopt, 50, 60), read("a", 100, 110)});
  // ... or never.
  expect_linearizable({write("a", 0, kNeverReturned), read(std::nullopt, 100, 110)});
  // But not before it was called.
  expect_rejected({read("a", 0, 5), write("a", 10, kNeverReturned)});
}

TEST(Linearizability, WriteThatNeverReturnedCannotBeObservedThenUnobserved) {
  expect_rejected({write("a", 0, 1), write("b", 5, kNeverReturned), read("b", 10, 20), read("a", 30, 40)});
}

TEST(Linearizability, ReadThatNeverReturnedIsIgnored) {
  expect_linearizable({write("a", 0, 1), read("never-written", 2, kNeverReturned), read("a", 3, 4)});
}

TEST(Linearizability, SameValueWrittenTwice) {
  // The read of a is explained by the second write of a, after b.
  expect_linearizable({write("a", 0, 1), write("b", 2, 3), write("a", 4, 5), read("a", 6, 7)});
  // Both writes of a precede b, so a later read of a is stale whichever write it would credit.
  expect_rejected({write("a", 0, 1), write("a", 2, 3), write("b", 4, 5), read("a", 6, 7)});
  // A read between two writes of the same value, concurrent with neither, sees it.
  expect_linearizable({write("a", 0, 1), read("a", 2, 3), write("a", 4, 5), read("a", 6, 7)});
}

TEST(Linearizability, OnlyTheBadKeyIsNamed) {
  const History history{
      write("1", 0, 1, "x"), read("1", 2, 3, "x"),  write("1", 0, 1, "y"), write("2", 2, 3, "y"),
      read("1", 4, 5, "y"),  write("1", 0, 1, "z"), read("1", 2, 3, "z"),  read("1", 6, 7, "x"),
  };
  const Result result = check(history);
  EXPECT_EQ(result.verdict, Verdict::not_linearizable) << verdict_of(result);
  EXPECT_EQ(result.key, "y");
  EXPECT_NE(result.explanation.find("key \"y\""), std::string::npos) << result.explanation;
  // The same history without the bad read of y passes, so it was that read that failed.
  History fixed = history;
  fixed.erase(fixed.begin() + 4);
  expect_linearizable(fixed);
}

TEST(Linearizability, MalformedOperationIsRejected) {
  const Result result = check({write("a", 0, 1), read("a", 5, 4)});
  EXPECT_EQ(result.verdict, Verdict::not_linearizable);
  EXPECT_NE(result.explanation.find("malformed"), std::string::npos) << result.explanation;
}

TEST(Linearizability, DeepSequentialHistoryNeedsNoRecursion) {
  // 20,000 operations placed one on top of the other: a recursive search would need that many frames.
  History history;
  for (int i = 0; i < 10'000; ++i) {
    history.push_back(write(std::to_string(i % 7), 4 * i, 4 * i + 1));
    history.push_back(read(std::to_string(i % 7), 4 * i + 2, 4 * i + 3));
  }
  const Result result = check(history);
  EXPECT_EQ(result.verdict, Verdict::linearizable) << verdict_of(result);
}

// A history of one key made from a sequential register: operation i takes effect at instant 10 * i, and
// its call and return are drawn around that instant, so about half a dozen operations overlap at a time.
// Some writes never return (they still took effect), and some reads never return (with a nonsense value,
// which must be ignored).
struct Generated {
  History history;
  std::vector<std::size_t> completed_reads;  // indices into history
};

Generated generate_linearizable(std::uint64_t seed, int count, int distinct_values, double never_returned) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::int64_t> spread(0, 30);
  std::uniform_int_distribution<int> pick_value(0, distinct_values - 1);
  std::bernoulli_distribution is_write(0.5);
  std::bernoulli_distribution lost(never_returned);
  Generated g;
  std::optional<std::string> current;
  for (int i = 0; i < count; ++i) {
    const std::int64_t instant = 10 * static_cast<std::int64_t>(i);
    const std::int64_t call = instant - spread(rng);
    std::int64_t ret = instant + spread(rng);
    const bool never = lost(rng);
    if (never) {
      ret = kNeverReturned;
    }
    if (is_write(rng)) {
      // With distinct_values == 0 every write is unique.
      current = distinct_values == 0 ? "v" + std::to_string(i) : "v" + std::to_string(pick_value(rng));
      g.history.push_back(write(*current, call, ret, "k", i % 8));
    } else if (never) {
      g.history.push_back(read("nonsense", call, ret, "k", i % 8));
    } else {
      g.completed_reads.push_back(g.history.size());
      g.history.push_back(read(current, call, ret, "k", i % 8));
    }
  }
  return g;
}

// The budget stands for "quickly" in the tests of large histories: a search that wandered (exponentially,
// say, for want of memoisation) would run out of it and say unknown.
constexpr std::uint64_t kBudget = 200'000;

TEST(Linearizability, LargeGeneratedHistoryIsAccepted) {
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    const Generated repeated_values = generate_linearizable(seed, 2'000, 4, 0.005);
    const Result result = check(repeated_values.history, kBudget);
    EXPECT_EQ(result.verdict, Verdict::linearizable) << "seed " << seed << ": " << verdict_of(result);

    const Generated unique_values = generate_linearizable(seed, 2'000, 0, 0.005);
    const Result unique_result = check(unique_values.history, kBudget);
    EXPECT_EQ(unique_result.verdict, Verdict::linearizable)
        << "seed " << seed << ": " << verdict_of(unique_result);
  }
}

TEST(Linearizability, LargeGeneratedHistoryWithOneStaleReadIsRejected) {
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    // Unique values, so that a stale value cannot be explained by a later write of the same value.
    Generated g = generate_linearizable(seed, 2'000, 0, 0.0);
    // Pick a read in the middle and make it return the value of a write that a later write overwrote,
    // both strictly before the read was called.
    const std::size_t victim = g.completed_reads[g.completed_reads.size() / 2];
    Operation& stale = g.history[victim];
    std::optional<std::string> stale_value;
    for (std::size_t i = 0; i < victim && !stale_value; ++i) {
      const Operation& old_write = g.history[i];
      if (old_write.kind != Operation::Kind::write || old_write.ret >= stale.call) {
        continue;
      }
      for (std::size_t j = i + 1; j < victim; ++j) {
        const Operation& newer = g.history[j];
        if (newer.kind == Operation::Kind::write && newer.call > old_write.ret && newer.ret < stale.call) {
          stale_value = old_write.value;
          break;
        }
      }
    }
    ASSERT_TRUE(stale_value.has_value());
    const Result before = check(g.history);
    ASSERT_EQ(before.verdict, Verdict::linearizable) << verdict_of(before);

    stale.value = stale_value;
    const Result result = check(g.history, kBudget);
    EXPECT_EQ(result.verdict, Verdict::not_linearizable) << "seed " << seed << ": " << verdict_of(result);
    EXPECT_EQ(result.key, "k");
    EXPECT_NE(result.explanation.find(fg::test::lin::describe(stale)), std::string::npos)
        << result.explanation;
  }
}

TEST(Linearizability, ExhaustedBudgetIsUnknown) {
  const Generated g = generate_linearizable(7, 500, 3, 0.0);
  const Result limited = check(g.history, 50);
  EXPECT_EQ(limited.verdict, Verdict::unknown) << verdict_of(limited);
  EXPECT_EQ(limited.key, "k");
  EXPECT_EQ(limited.steps, 50u);
  EXPECT_NE(limited.explanation.find("gave up"), std::string::npos) << limited.explanation;

  const Result unlimited = check(g.history);
  EXPECT_EQ(unlimited.verdict, Verdict::linearizable) << verdict_of(unlimited);
  EXPECT_GT(unlimited.steps, 50u);
}

TEST(Linearizability, AKeyFoundBadOutranksAKeyOutOfBudget) {
  // The first key needs more steps than the budget; the second is plainly wrong and needs only a few.
  History history = generate_linearizable(7, 500, 3, 0.0).history;
  for (Operation& op : history) {
    op.key = "slow";
  }
  history.push_back(write("a", 0, 1, "bad"));
  history.push_back(read(std::nullopt, 2, 3, "bad"));
  const Result result = check(history, 50);
  EXPECT_EQ(result.verdict, Verdict::not_linearizable) << verdict_of(result);
  EXPECT_EQ(result.key, "bad");
}

// The reference: a history is linearizable iff some order of all its operations respects real time
// (a before b whenever a.ret < b.call) and replays correctly on a map of registers. It tries every
// permutation of the whole history, ignoring keys' independence, so it shares no idea with check()
// beyond the definition. Reads that never returned are dropped; a write that never returned is simply
// one more operation, since placing it last is the same as it never taking effect.
bool brute_force_linearizable(const History& history) {
  History ops;
  std::copy_if(history.begin(), history.end(), std::back_inserter(ops), [](const Operation& op) {
    return !(op.kind == Operation::Kind::read && op.ret == kNeverReturned);
  });
  std::vector<std::size_t> order(ops.size());
  std::iota(order.begin(), order.end(), 0);
  do {
    bool respects_time = true;
    for (std::size_t i = 0; i < order.size() && respects_time; ++i) {
      for (std::size_t j = i + 1; j < order.size() && respects_time; ++j) {
        respects_time = !(ops[order[j]].ret < ops[order[i]].call);
      }
    }
    if (!respects_time) {
      continue;
    }
    std::map<std::string, std::string> registers;
    bool replays = true;
    for (std::size_t i = 0; i < order.size() && replays; ++i) {
      const Operation& op = ops[order[i]];
      if (op.kind == Operation::Kind::write) {
        registers[op.key] = *op.value;
      } else {
        auto it = registers.find(op.key);
        const std::optional<std::string> held =
            it == registers.end() ? std::nullopt : std::optional<std::string>(it->second);
        replays = held == op.value;
      }
    }
    if (replays) {
      return true;
    }
  } while (std::next_permutation(order.begin(), order.end()));
  return false;
}

History random_small_history(std::mt19937_64& rng) {
  std::uniform_int_distribution<int> count(0, 7);
  std::uniform_int_distribution<std::int64_t> start(0, 12);
  std::uniform_int_distribution<std::int64_t> length(0, 6);
  std::uniform_int_distribution<int> pick(0, 2);
  std::bernoulli_distribution coin(0.5);
  std::bernoulli_distribution lost(0.1);
  const bool two_keys = coin(rng);
  const int n = count(rng);
  History history;
  for (int i = 0; i < n; ++i) {
    const std::int64_t call = start(rng);
    const std::int64_t ret = lost(rng) ? kNeverReturned : call + length(rng);
    const std::string key = two_keys && coin(rng) ? "y" : "x";
    if (coin(rng)) {
      history.push_back(write(pick(rng) == 0 ? "a" : "b", call, ret, key, i));
    } else {
      const int v = pick(rng);
      history.push_back(
          read(v == 0 ? std::nullopt : std::optional<std::string>(v == 1 ? "a" : "b"), call, ret, key, i));
    }
  }
  return history;
}

std::string dump(const History& history) {
  std::string out;
  for (const Operation& op : history) {
    out += "  key " + op.key + ": " + fg::test::lin::describe(op) + "\n";
  }
  return out;
}

TEST(Linearizability, AgreesWithBruteForceOnSmallRandomHistories) {
  std::mt19937_64 rng(20240611);
  int accepted = 0;
  int rejected = 0;
  constexpr int kHistories = 4'000;
  for (int i = 0; i < kHistories; ++i) {
    const History history = random_small_history(rng);
    const bool expected = brute_force_linearizable(history);
    const Result result = check(history);
    ASSERT_EQ(result.verdict, expected ? Verdict::linearizable : Verdict::not_linearizable)
        << "history " << i << ":\n"
        << dump(history) << verdict_of(result);
    ++(expected ? accepted : rejected);
  }
  // The comparison means something only if both answers are common.
  EXPECT_GT(accepted, kHistories / 5);
  EXPECT_GT(rejected, kHistories / 5);
}

}  // namespace
