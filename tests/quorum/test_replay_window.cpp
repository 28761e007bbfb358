#include "quorum/replay_window.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <random>
#include <set>

namespace fg::quorum {
namespace {

using V = ReplayVerdict;

// check() then commit(), as the secure channel does for a genuine datagram.
V deliver(ReplayWindow& w, std::uint64_t epoch, std::uint64_t counter) {
  V verdict = w.check(epoch, counter);
  if (verdict == V::fresh) {
    w.commit(epoch, counter);
  }
  return verdict;
}

TEST(ReplayWindow, ADatagramIsFreshOnceThenReplayed) {
  ReplayWindow w;
  EXPECT_EQ(deliver(w, 1, 1), V::fresh);
  EXPECT_EQ(deliver(w, 1, 1), V::replayed);
  EXPECT_EQ(deliver(w, 1, 2), V::fresh);
  EXPECT_EQ(deliver(w, 1, 2), V::replayed);
  EXPECT_EQ(deliver(w, 1, 1), V::replayed);
  EXPECT_EQ(w.epoch(), 1u);
  EXPECT_EQ(w.highest(), 2u);
}

TEST(ReplayWindow, CheckAloneNeverMovesTheWindow) {
  ReplayWindow w;
  w.commit(1, 10);
  // What a forged datagram would look like: a far newer epoch and counter, checked but not committed.
  EXPECT_EQ(w.check(9, 1'000'000), V::fresh);
  EXPECT_EQ(w.check(1, 1'000'000), V::fresh);
  EXPECT_EQ(w.epoch(), 1u);
  EXPECT_EQ(w.highest(), 10u);
  EXPECT_EQ(w.check(1, 9), V::fresh);
  EXPECT_EQ(w.check(1, 10), V::replayed);
}

TEST(ReplayWindow, CounterZeroIsNeverFresh) {
  ReplayWindow w;
  EXPECT_EQ(w.check(0, 0), V::replayed);
  EXPECT_EQ(w.check(5, 0), V::replayed);
}

TEST(ReplayWindow, ReorderedDatagramsInsideTheWindowAreAcceptedOnce) {
  ReplayWindow w;
  EXPECT_EQ(deliver(w, 3, 100), V::fresh);
  EXPECT_EQ(deliver(w, 3, 50), V::fresh);
  EXPECT_EQ(deliver(w, 3, 99), V::fresh);
  EXPECT_EQ(deliver(w, 3, 1), V::fresh);
  EXPECT_EQ(deliver(w, 3, 50), V::replayed);
  EXPECT_EQ(deliver(w, 3, 99), V::replayed);
  EXPECT_EQ(deliver(w, 3, 1), V::replayed);
  EXPECT_EQ(deliver(w, 3, 101), V::fresh);
  EXPECT_EQ(w.highest(), 101u);
}

TEST(ReplayWindow, TheWindowCoversExactly1024Counters) {
  ReplayWindow w;
  ASSERT_EQ(deliver(w, 1, 2000), V::fresh);
  EXPECT_EQ(w.check(1, 2000 - 1023), V::fresh);  // the oldest counter still inside
  EXPECT_EQ(w.check(1, 2000 - 1024), V::too_old);
  EXPECT_EQ(w.check(1, 1), V::too_old);
  EXPECT_EQ(deliver(w, 1, 2000 - 1023), V::fresh);
  EXPECT_EQ(deliver(w, 1, 2000 - 1023), V::replayed);
  // Moving on by one pushes it out.
  ASSERT_EQ(deliver(w, 1, 2001), V::fresh);
  EXPECT_EQ(w.check(1, 2000 - 1023), V::too_old);
}

TEST(ReplayWindow, BitsFromAWholeRingAgoAreNotTakenForReplays) {
  ReplayWindow w;
  for (std::uint64_t c = 1; c <= 64; ++c) {
    ASSERT_EQ(deliver(w, 1, c), V::fresh);
  }
  // The bitmap is a ring of 17 words of 64 bits: 1088 counters on, the same bits come round again.
  ASSERT_EQ(deliver(w, 1, 1100), V::fresh);
  for (std::uint64_t c = 1088; c < 1100; ++c) {
    EXPECT_EQ(w.check(1, c), V::fresh) << c;
  }
  // And a jump over several rings forgets everything but the new highest.
  ASSERT_EQ(deliver(w, 1, 1100 + 5 * 1088), V::fresh);
  for (std::uint64_t c = 1100 + 5 * 1088 - 1023; c < 1100 + 5 * 1088; ++c) {
    ASSERT_EQ(w.check(1, c), V::fresh) << c;
  }
}

TEST(ReplayWindow, ANewerEpochStartsAfreshAndOlderEpochsAreStale) {
  ReplayWindow w;
  ASSERT_EQ(deliver(w, 1, 5000), V::fresh);
  // The peer rebooted: its counter starts again at 1 in a higher epoch.
  EXPECT_EQ(deliver(w, 2, 1), V::fresh);
  EXPECT_EQ(w.epoch(), 2u);
  EXPECT_EQ(w.highest(), 1u);
  EXPECT_EQ(deliver(w, 2, 1), V::replayed);
  EXPECT_EQ(deliver(w, 2, 2), V::fresh);
  EXPECT_EQ(deliver(w, 1, 5001), V::stale_epoch);
  EXPECT_EQ(deliver(w, 1, 4999), V::stale_epoch);
  // An epoch may be skipped (a boot that never sent anything).
  EXPECT_EQ(deliver(w, 7, 3), V::fresh);
  EXPECT_EQ(deliver(w, 2, 3), V::stale_epoch);
}

TEST(ReplayWindow, CommittingWhatCheckRefusesChangesNothing) {
  ReplayWindow w;
  ASSERT_EQ(deliver(w, 2, 2000), V::fresh);
  w.commit(1, 3000);  // stale epoch
  w.commit(2, 100);   // too old
  w.commit(2, 0);     // never valid
  EXPECT_EQ(w.epoch(), 2u);
  EXPECT_EQ(w.highest(), 2000u);
  EXPECT_EQ(w.check(2, 1999), V::fresh);
}

TEST(ReplayWindow, VerdictsHaveNames) {
  EXPECT_STREQ(to_string(V::fresh), "fresh");
  EXPECT_STREQ(to_string(V::replayed), "replayed");
  EXPECT_STREQ(to_string(V::stale_epoch), "stale_epoch");
  EXPECT_STREQ(to_string(V::too_old), "too_old");
}

// Against a model that remembers every counter ever seen: random walks of reorders, duplicates, jumps and
// epoch changes get the same verdicts.
TEST(ReplayWindow, AgreesWithAModelThatRemembersEverything) {
  std::mt19937_64 random(20240611);
  for (int round = 0; round < 20; ++round) {
    ReplayWindow w;
    std::uint64_t epoch = 1;
    std::uint64_t highest = 0;
    std::map<std::uint64_t, std::set<std::uint64_t>> seen;
    for (int step = 0; step < 5000; ++step) {
      std::uint64_t e = epoch;
      std::uint64_t c = 0;
      switch (random() % 10) {
        case 0:
          e = epoch + 1 + random() % 2;
          c = 1 + random() % 3;
          break;
        case 1:
          e = epoch > 1 ? epoch - 1 : epoch;
          c = 1 + random() % 3000;
          break;
        case 2:
          c = highest + 1 + random() % 3000;
          break;
        default:
          c = highest + 5 > 1500 ? highest + 5 - random() % 1500 : 1 + random() % (highest + 5);
          break;
      }
      V expected;
      if (c == 0 || (e == epoch && seen[e].contains(c))) {
        expected = V::replayed;
      } else if (e < epoch) {
        expected = V::stale_epoch;
      } else if (e > epoch || c > highest) {
        expected = V::fresh;
      } else if (highest - c >= ReplayWindow::kWindow) {
        expected = V::too_old;
      } else {
        expected = V::fresh;
      }
      // The model's "seen" set outlives the window: a seen counter below the window is too_old there.
      if (expected == V::replayed && c != 0 && highest - c >= ReplayWindow::kWindow) {
        expected = V::too_old;
      }
      ASSERT_EQ(deliver(w, e, c), expected)
          << "round " << round << " step " << step << ": epoch " << e << " counter " << c << " (window epoch "
          << epoch << ", highest " << highest << ")";
      if (expected == V::fresh) {
        if (e > epoch) {
          epoch = e;
          highest = 0;
        }
        seen[e].insert(c);
        highest = std::max(highest, c);
      }
    }
  }
}

}  // namespace
}  // namespace fg::quorum
