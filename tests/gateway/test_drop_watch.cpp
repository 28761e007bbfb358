// Drop episodes: one line when a drop counter starts climbing, one when it has been quiet for a while,
// with the count; never one per event. DropEpisodes is given the times (a fake clock); DropWatch runs on
// a real loop.

#include "gateway/drop_watch.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/support/loop_fixture.hpp"

namespace fg::gateway {
namespace {

using namespace std::chrono_literals;
using Clock = DropEpisodes::Clock;

class DropEpisodesTest : public ::testing::Test {
 protected:
  DropEpisodes episodes{5s};
  Clock::time_point t0{};
  std::vector<std::string> lines;

  void at(Clock::duration t, std::uint64_t value, std::string_view what = "rejected lines") {
    std::vector<DropEvent> events;
    episodes.observe("junk", what, value, t0 + t, events);
    for (const auto& e : events) {
      lines.push_back(describe(e));
    }
  }
};

TEST_F(DropEpisodesTest, OneLineAtTheStartAndOneAtTheEndWithTheCount) {
  at(0s, 7);  // the baseline: drops before the watch began are no episode
  at(1s, 7);
  EXPECT_TRUE(lines.empty());
  EXPECT_FALSE(episodes.active());
  at(2s, 10);
  ASSERT_EQ(lines, std::vector<std::string>{"junk: dropping rejected lines (3 so far)"});
  EXPECT_TRUE(episodes.active());
  // Climbing on: no line per event or per sample.
  for (int s = 3; s <= 15; ++s) {
    at(std::chrono::seconds(s), 10 + static_cast<std::uint64_t>(s) * 100);
  }
  at(19s, 1510);  // quiet for 4 s: not yet
  EXPECT_EQ(lines.size(), 1u);
  at(20s, 1510);  // quiet for 5 s since the last drop (at 15 s)
  ASSERT_EQ(lines.size(), 2u);
  // From the sample before the first drop (1 s) to the one that saw the last (15 s).
  EXPECT_EQ(lines[1], "junk: stopped dropping rejected lines: 1503 dropped in 14.0 s");
  EXPECT_FALSE(episodes.active());
  at(25s, 1510);
  EXPECT_EQ(lines.size(), 2u) << "an ended episode is not ended again";
  // A new episode counts from where the last one ended.
  at(26s, 1512);
  EXPECT_EQ(lines.back(), "junk: dropping rejected lines (2 so far)");
}

TEST_F(DropEpisodesTest, ADropWithinTheQuietPeriodKeepsTheEpisodeOpen) {
  at(0s, 0);
  at(1s, 1);
  at(5s, 1);
  at(5500ms, 2);  // 4.5 s after the last drop
  at(10s, 2);     // 4.5 s after this one
  EXPECT_EQ(lines.size(), 1u);
  at(10500ms, 2);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1], "junk: stopped dropping rejected lines: 2 dropped in 5.5 s");
}

TEST_F(DropEpisodesTest, CountersHaveEpisodesOfTheirOwn) {
  at(0s, 0, "rejected lines");
  at(0s, 0, "bad crc");
  at(1s, 4, "rejected lines");
  at(1s, 0, "bad crc");
  at(2s, 4, "rejected lines");
  at(2s, 9, "bad crc");
  ASSERT_EQ(lines, (std::vector<std::string>{"junk: dropping rejected lines (4 so far)",
                                             "junk: dropping bad crc (9 so far)"}));
  at(6s, 4, "rejected lines");
  at(6s, 9, "bad crc");
  EXPECT_EQ(lines.back(), "junk: stopped dropping rejected lines: 4 dropped in 1.0 s");
  EXPECT_TRUE(episodes.active()) << "bad crc is still in its quiet period";
  at(7s, 9, "bad crc");
  EXPECT_EQ(lines.back(), "junk: stopped dropping bad crc: 9 dropped in 1.0 s");
  EXPECT_FALSE(episodes.active());
}

TEST_F(DropEpisodesTest, ACounterThatWentDownIsANewBaselineWithoutALine) {
  at(0s, 5);
  at(1s, 8);
  EXPECT_TRUE(episodes.active());
  at(2s, 0);  // the device was made anew
  EXPECT_FALSE(episodes.active());
  at(9s, 0);
  EXPECT_EQ(lines.size(), 1u);
  at(10s, 3);
  EXPECT_EQ(lines.back(), "junk: dropping rejected lines (3 so far)");
}

TEST_F(DropEpisodesTest, FinishEndsTheOpenEpisodesWithTheirCounts) {
  at(0s, 0);
  at(1s, 0, "bad crc");
  at(2s, 6);
  at(3s, 0, "bad crc");
  std::vector<DropEvent> events;
  episodes.finish(events);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(describe(events[0]), "junk: stopped dropping rejected lines: 6 dropped in 2.0 s");
  EXPECT_FALSE(episodes.active());
}

// On the loop: the baseline at start, a line when the counter climbs, the end after the quiet period,
// and nothing while idle.
class DropWatchTest : public test::LoopTest {};

TEST_F(DropWatchTest, SamplesOnTheLoopAndReportsEachEpisodeOnce) {
  std::uint64_t counter = 3;
  int samples = 0;
  std::vector<std::string> lines;
  DropWatch watch(
      loop, DropWatch::Timing{40ms, 10ms, 50ms},
      [&](std::vector<DropWatch::Sample>& out) {
        ++samples;
        out.push_back({"mqtt", "messages (outbox full)", counter});
      },
      [&](const DropEvent& e) {
        lines.push_back(describe(e));
        loop.stop();
      });
  watch.start();
  EXPECT_EQ(samples, 1) << "the baseline is taken at once";
  counter = 2015;
  ASSERT_FALSE(loop.run_for(5s));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "mqtt: dropping messages (outbox full) (2012 so far)");
  ASSERT_FALSE(loop.run_for(5s));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1].rfind("mqtt: stopped dropping messages (outbox full): 2012 dropped in ", 0), 0u)
      << lines[1];
  // Idle again: sampled at the idle period, no line.
  const int before = samples;
  loop::Timer later(loop);
  later.start(200ms, [&] { loop.stop(); });
  run_expecting_stop();
  EXPECT_EQ(lines.size(), 2u);
  EXPECT_LE(samples - before, 6) << "sampled at the idle period (40 ms) while nothing climbs";
  // Stopping ends an open episode with its count.
  counter = 2020;
  ASSERT_FALSE(loop.run_for(5s));
  watch.stop();
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[3].rfind("mqtt: stopped dropping messages (outbox full): 5 dropped in ", 0), 0u)
      << lines[3];
  later.close();
}

}  // namespace
}  // namespace fg::gateway
