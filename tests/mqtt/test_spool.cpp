// Spool on the simulated disk (tests/storage/sim_disk.hpp): order, acknowledgement marks across restarts,
// segment deletion, the size cap, a full disk, damaged segments, and crashes that lose unsynced and torn
// writes over many seeds.

#include "mqtt/spool.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tests/mqtt/spool_test_support.hpp"
#include "tests/storage/sim_disk.hpp"

namespace fg::mqtt {
namespace {

using test_support::message;
using test_support::segment_files;
using test_support::take_all;

TEST(MqttSpool, HandsOutInOrderAndCountsWaiting) {
  test::SimDisk disk;
  auto spool = Spool::open(disk);
  ASSERT_TRUE(spool) << spool.error().message();
  EXPECT_EQ(spool->front(), nullptr);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(spool->push(message(i)), 0u);
  }
  EXPECT_EQ(spool->size(), 5u);
  int mid = 1;
  auto taken = take_all(*spool, mid);
  ASSERT_EQ(taken.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(taken[static_cast<std::size_t>(i)], "payload " + std::to_string(i));
  }
  EXPECT_EQ(spool->size(), 0u);
  EXPECT_EQ(spool->unacknowledged(), 5u);
}

TEST(MqttSpool, ARestartResendsOnlyWhatWasNotAcknowledged) {
  test::SimDisk disk;
  int mid = 1;
  {
    auto spool = Spool::open(disk);
    ASSERT_TRUE(spool);
    for (int i = 0; i < 6; ++i) {
      spool->push(message(i));
    }
    take_all(*spool, mid);
    spool->acknowledged(1);
    spool->acknowledged(2);
    spool->acknowledged(4);   // out of order: 3 is still unacknowledged
    spool->push(message(6));  // never sent
    ASSERT_FALSE(spool->sync());
  }
  auto spool = Spool::open(disk);
  ASSERT_TRUE(spool);
  EXPECT_EQ(spool->counters().recovered, 4u);
  auto again = take_all(*spool, mid);
  EXPECT_EQ(again, (std::vector<std::string>{"payload 2", "payload 4", "payload 5", "payload 6"}));
}

// A killed process loses nothing: the page cache (here: the pending bytes) survives it.
TEST(MqttSpool, AKilledProcessLosesNothingUnsynced) {
  test::SimDisk disk;
  {
    auto spool = Spool::open(disk);
    ASSERT_TRUE(spool);
    spool->push(message(1));
    spool->push(message(2));
  }
  auto spool = Spool::open(disk);
  ASSERT_TRUE(spool);
  int mid = 1;
  EXPECT_EQ(take_all(*spool, mid), (std::vector<std::string>{"payload 1", "payload 2"}));
}

TEST(MqttSpool, ASegmentIsDeletedOnlyWhenEveryMessageInItIsAcknowledged) {
  test::SimDisk disk;
  auto spool = Spool::open(disk, {.segment_bytes = 200});
  ASSERT_TRUE(spool);
  for (int i = 0; i < 12; ++i) {
    spool->push(message(i));
  }
  ASSERT_GE(spool->segments(), 3u);
  const auto first = segment_files(disk).front();
  int mid = 1;
  take_all(*spool, mid);
  // Acknowledge everything but the very first message: its segment must stay.
  for (int m = 2; m < mid; ++m) {
    spool->acknowledged(m);
  }
  auto files = segment_files(disk);
  EXPECT_EQ(files.front(), first);
  EXPECT_EQ(spool->retired(), 0u);
  spool->acknowledged(1);
  // Retired now; the next group commit deletes them (mqtt/spool_commit.cpp).
  EXPECT_EQ(spool->retired(), spool->segments() - 1);
  EXPECT_EQ(segment_files(disk).size(), spool->segments()) << "the files stay until the commit";
  auto job = spool->begin_sync();
  ASSERT_TRUE(job);
  spool->end_sync(job());
  files = segment_files(disk);
  EXPECT_EQ(files.size(), 1u) << "only the segment being written remains";
  EXPECT_NE(files.front(), first);
  EXPECT_EQ(spool->segments(), 1u);
  EXPECT_EQ(spool->retired(), 0u);
  EXPECT_EQ(spool->unacknowledged(), 0u);
}

// A new segment costs no sync where it is made (the loop thread, in the gateway): its header and name
// become durable with the next group commit, which the gateway runs on the threadpool.
TEST(MqttSpool, ASegmentRolloverSyncsNothingOnTheCallersThread) {
  test::SimDisk disk;
  auto spool = Spool::open(disk, {.segment_bytes = 200});
  ASSERT_TRUE(spool);
  const auto syncs = disk.sync_calls();
  const auto durable_ops = disk.durable_ops();
  for (int i = 0; i < 12; ++i) {
    spool->push(message(i));
  }
  ASSERT_GE(spool->segments(), 3u);
  EXPECT_EQ(disk.sync_calls(), syncs);
  EXPECT_EQ(disk.durable_ops(), durable_ops) << "no replace (fdatasync + directory fsync) per segment";
  auto job = spool->begin_sync();  // every finished segment and the newest, in one job
  ASSERT_TRUE(job);
  spool->end_sync(job());
  EXPECT_FALSE(spool->pending());
}

// A crash before a new segment's first sync leaves it absent or with its header cut short: nothing was
// promised in it, so the next open removes it without calling it damaged, and what was synced is there.
TEST(MqttSpool, ACrashBeforeANewSegmentsFirstSyncLeavesNoDamage) {
  test::SimDisk disk;
  std::mt19937_64 rng(7);
  for (int round = 0; round < 50; ++round) {
    {
      auto spool = Spool::open(disk, {.segment_bytes = 200});
      ASSERT_TRUE(spool);
      EXPECT_EQ(spool->counters().corrupt_segments, 0u) << "round " << round;
      spool->push(message(round));
      ASSERT_FALSE(spool->sync());
      for (int i = 0; i < 6; ++i) {  // into a new segment or two, never synced
        spool->push(message(1000 + i));
      }
    }
    disk.crash(rng);
  }
  auto spool = Spool::open(disk, {.segment_bytes = 200});
  ASSERT_TRUE(spool);
  EXPECT_EQ(spool->counters().corrupt_segments, 0u);
  int mid = 1;
  std::set<std::string> left;
  for (const auto& payload : take_all(*spool, mid)) {
    left.insert(payload);
  }
  for (int round = 0; round < 50; ++round) {
    EXPECT_TRUE(left.contains("payload " + std::to_string(round))) << "synced message " << round;
  }
}

// Segments waiting for the group commit to delete them still occupy the disk and count against the cap,
// but when room is needed they go first, at once (before_delete first), and no message is dropped.
TEST(MqttSpool, RetiredSegmentsAreTheFirstToGoWhenRoomIsNeeded) {
  test::SimDisk disk;
  std::vector<std::string> log;
  int checkpoints = 0;
  SpoolHooks hooks{.recovered = {},
                   .before_delete = [&] { ++checkpoints; },
                   .checkpoint_job = [&] { return disk.replace_job("checkpoint", "c"); },
                   .appended = {}};
  auto spool = Spool::open(
      disk, {.max_bytes = 1200, .segment_bytes = 300}, [&](std::string_view line) { log.emplace_back(line); },
      hooks);
  ASSERT_TRUE(spool);
  for (int i = 0; i < 15; ++i) {
    spool->push(message(i));
  }
  int mid = 1;
  take_all(*spool, mid);
  for (int m = 1; m < mid; ++m) {
    spool->acknowledged(m);
  }
  ASSERT_GT(spool->retired(), 0u);
  const auto retired_bytes = spool->bytes();
  for (int i = 15; i < 40; ++i) {
    EXPECT_EQ(spool->push(message(i)), 0u);
  }
  EXPECT_GT(retired_bytes + 25 * 30, 1200u) << "the premise: without them going, messages would be dropped";
  EXPECT_EQ(spool->counters().dropped, 0u);
  EXPECT_EQ(spool->retired(), 0u);
  EXPECT_GE(checkpoints, 1) << "the owner's state made durable before they went";
  EXPECT_LE(spool->bytes(), 1200u);
  EXPECT_TRUE(log.empty()) << log.front();
  EXPECT_EQ(take_all(*spool, mid).size(), 25u);
}

TEST(MqttSpool, TheSizeCapDropsTheOldestAndLogsOncePerEpisode) {
  test::SimDisk disk;
  std::vector<std::string> log;
  auto spool = Spool::open(disk, {.max_bytes = 1200, .segment_bytes = 300},
                           [&](std::string_view line) { log.emplace_back(line); });
  ASSERT_TRUE(spool);
  std::size_t dropped = 0;
  for (int i = 0; i < 100; ++i) {
    dropped += spool->push(message(i));
  }
  EXPECT_LE(spool->bytes(), 1200u);
  EXPECT_GT(spool->counters().dropped, 0u);
  EXPECT_EQ(dropped, 0u) << "room is made by dropping old segments, not the new message";
  EXPECT_EQ(spool->size() + spool->counters().dropped, 100u) << "every message is waiting or counted";
  ASSERT_EQ(log.size(), 1u) << "one line when the episode starts";
  EXPECT_NE(log.front().find("dropping the oldest"), std::string::npos);
  // The oldest left is a newer message, and the newest is the last one pushed.
  int mid = 1;
  auto left = take_all(*spool, mid);
  ASSERT_FALSE(left.empty());
  EXPECT_NE(left.front(), "payload 0");
  EXPECT_EQ(left.back(), "payload 99");
  for (int m = 1; m < mid; ++m) {
    spool->acknowledged(m);
  }
  spool->push(message(100));
  ASSERT_EQ(log.size(), 2u) << "one line when it ends";
  EXPECT_NE(log.back().find(std::to_string(spool->counters().dropped) + " messages were dropped"),
            std::string::npos)
      << log.back();
}

TEST(MqttSpool, AFullDiskDropsTheOldestAndGoesOn) {
  test::SimDisk disk;
  disk.set_capacity(1500);
  auto spool = Spool::open(disk, {.segment_bytes = 300});
  ASSERT_TRUE(spool);
  for (int i = 0; i < 200; ++i) {
    spool->push(message(i));
  }
  EXPECT_GT(spool->counters().dropped, 0u);
  EXPECT_GT(spool->counters().write_errors, 0u);
  EXPECT_LE(disk.used_bytes(), 1500u);
  EXPECT_EQ(spool->size() + spool->counters().dropped, 200u);
  int mid = 1;
  auto left = take_all(*spool, mid);
  ASSERT_FALSE(left.empty());
  EXPECT_EQ(left.back(), "payload 199");
}

// When the segment being written is the only one and the disk is full, it goes too: the oldest messages
// are in it, and the newest must find room (the full disk behaves as the size cap does).
TEST(MqttSpool, AFullDiskGivesUpTheSegmentBeingWrittenWhenItIsTheOnlyOne) {
  test::SimDisk disk;
  disk.set_capacity(1000);  // far below one segment (1 MiB): the disk fills while one segment is written
  auto spool = Spool::open(disk);
  ASSERT_TRUE(spool);
  std::size_t refused = 0;
  for (int i = 0; i < 200; ++i) {
    refused += spool->push(message(i));
  }
  EXPECT_EQ(refused, 0u) << "every new message found room";
  EXPECT_GT(spool->counters().dropped, 0u) << "the oldest went";
  EXPECT_GT(spool->counters().segments_deleted, 0u);
  EXPECT_EQ(spool->size() + spool->counters().dropped, 200u);
  EXPECT_LE(disk.used_bytes(), 1000u);
  int mid = 1;
  auto left = take_all(*spool, mid);
  ASSERT_FALSE(left.empty());
  EXPECT_EQ(left.back(), "payload 199");
}

// A segment emptied by Disk::discard and not yet unlinked when the power went (a crash between the two)
// is taken for one never written.
TEST(MqttSpool, AnEmptySegmentFileLeftByACrashIsRemovedAtOpen) {
  test::SimDisk disk;
  {
    auto spool = Spool::open(disk);
    ASSERT_TRUE(spool);
    spool->push(message(1));
    ASSERT_FALSE(spool->sync());
  }
  ASSERT_FALSE(disk.replace("seg-00000000000000ff", ""));
  auto spool = Spool::open(disk);
  ASSERT_TRUE(spool) << spool.error().message();
  EXPECT_EQ(spool->counters().corrupt_segments, 0u);
  int mid = 1;
  EXPECT_EQ(take_all(*spool, mid), (std::vector<std::string>{"payload 1"}));
  for (const auto& name : disk.names()) {
    EXPECT_NE(name, "seg-00000000000000ff") << "the empty one is gone";
  }
}

// A disk with no room even for a segment's header: every message is dropped and counted, nothing hangs
// or fails, and once there is room again the spool goes on.
TEST(MqttSpool, ADiskWithNoRoomAtAllDropsEverythingAndRecovers) {
  test::SimDisk disk;
  disk.set_capacity(8);
  std::vector<std::string> log;
  auto spool = Spool::open(disk, {}, [&](std::string_view line) { log.emplace_back(line); });
  ASSERT_TRUE(spool);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(spool->push(message(i)), 1u);
  }
  EXPECT_EQ(spool->counters().dropped, 5u);
  EXPECT_EQ(spool->size(), 0u);
  EXPECT_FALSE(log.empty());
  disk.set_capacity(std::nullopt);
  EXPECT_EQ(spool->push(message(5)), 0u);
  int mid = 1;
  EXPECT_EQ(take_all(*spool, mid), (std::vector<std::string>{"payload 5"}));
}

TEST(MqttSpool, ATornTailIsCutAndACorruptSegmentIsSetAside) {
  test::SimDisk disk;
  std::string first;
  {
    auto spool = Spool::open(disk, {.segment_bytes = 200});
    ASSERT_TRUE(spool);
    for (int i = 0; i < 10; ++i) {
      spool->push(message(i));
    }
    ASSERT_FALSE(spool->sync());
    first = segment_files(disk).front();
  }
  // Damage in the middle of the first segment (bit rot), and a torn record at the end of the last.
  auto bytes = *disk.read(first);
  bytes[bytes.size() / 2 + 10] ^= 0x5a;
  disk.put_durable(first, bytes);
  const auto last = segment_files(disk).back();
  disk.put_durable(last, *disk.read(last) + std::string("\x10\x20\x30", 3));
  std::vector<std::string> log;
  auto spool =
      Spool::open(disk, {.segment_bytes = 200}, [&](std::string_view line) { log.emplace_back(line); });
  ASSERT_TRUE(spool) << spool.error().message();
  EXPECT_EQ(spool->counters().corrupt_segments, 1u);
  EXPECT_TRUE(disk.durable(first + ".corrupt")) << "set aside, not deleted";
  bool reported = false;
  for (const auto& line : log) {
    reported = reported || line.find(first) != std::string::npos;
  }
  EXPECT_TRUE(reported);
  int mid = 1;
  auto left = take_all(*spool, mid);
  ASSERT_FALSE(left.empty());
  EXPECT_EQ(left.back(), "payload 9");
  // The intact records before the damage are counted as dropped; what follows it cannot be counted.
  EXPECT_GT(spool->counters().dropped, 0u);
  EXPECT_LT(left.size() + spool->counters().dropped, 10u + 1);
}

// Crashes at random moments over many seeds. The model: a message or an acknowledgement is durable once
// a sync() or a group commit followed its append. After each crash and recovery: every durable message
// that was not acknowledged is handed out again, in push order, once; no message whose acknowledgement is
// durable comes back; nothing that was never pushed appears. The group commit's job (begin_sync: the
// segments' sync, the owner's checkpoint, the deletion of retired segments) is also cut between any two
// of its steps: the disk halts after a random number of operations, and the power goes.
TEST(MqttSpool, CrashesLoseOnlyUnsyncedWritesOverManySeeds) {
  std::uint64_t cut_commits = 0, deleted = 0;
  for (std::uint64_t seed = 1; seed <= 400; ++seed) {
    std::mt19937_64 rng(seed);
    test::SimDisk disk;
    SpoolOptions options{.segment_bytes = 150 + rng() % 400};
    // The owner's checkpoint: its job's run is one more operation where the disk may halt.
    SpoolHooks hooks{.recovered = {},
                     .before_delete = {},
                     .checkpoint_job = [&] { return disk.replace_job("checkpoint", "c"); },
                     .appended = {}};
    auto spool = Spool::open(disk, options, {}, hooks);
    ASSERT_TRUE(spool);
    int next_message = 0;
    int next_mid = 1;
    std::set<int> durable_messages, durable_acks;  // by message number
    std::vector<int> unsynced_messages, unsynced_acks;
    std::map<int, int> in_flight;  // mid -> message number
    auto number = [](const std::string& payload) { return std::stoi(payload.substr(8)); };
    for (int step = 0; step < 120; ++step) {
      auto choice = rng() % 7;
      if (choice == 6) {
        // A group commit, the power going at a random step of its job (or not at all).
        auto job = spool->begin_sync();
        if (!job) {
          continue;
        }
        disk.halt_after(rng() % 8);
        const auto result = job();
        if (!disk.halted()) {
          ASSERT_FALSE(result);
          spool->end_sync(result);
          disk.halt_after(std::numeric_limits<std::size_t>::max());
          durable_messages.insert(unsynced_messages.begin(), unsynced_messages.end());
          durable_acks.insert(unsynced_acks.begin(), unsynced_acks.end());
          unsynced_messages.clear();
          unsynced_acks.clear();
          continue;
        }
        ++cut_commits;
        choice = 5;  // the crash, below
      }
      switch (choice) {
        case 0:
        case 1:
          spool->push(message(next_message));
          unsynced_messages.push_back(next_message);
          ++next_message;
          break;
        case 2:
          if (const Publication* m = spool->front()) {
            in_flight[next_mid] = number(m->payload);
            spool->sent(next_mid++);
          }
          break;
        case 3:
          if (!in_flight.empty()) {
            auto it = std::next(in_flight.begin(), static_cast<long>(rng() % in_flight.size()));
            spool->acknowledged(it->first);
            unsynced_acks.push_back(it->second);
            in_flight.erase(it);
          }
          break;
        case 4:
          ASSERT_FALSE(spool->sync());
          durable_messages.insert(unsynced_messages.begin(), unsynced_messages.end());
          durable_acks.insert(unsynced_acks.begin(), unsynced_acks.end());
          unsynced_messages.clear();
          unsynced_acks.clear();
          break;
        case 5: {
          // The old Spool writes nothing when it goes (it is replaced below), like a killed process.
          deleted += spool->counters().segments_deleted;
          disk.crash(rng);
          spool = Spool::open(disk, options, {}, hooks);
          ASSERT_TRUE(spool) << "seed " << seed;
          std::vector<int> back;
          while (const Publication* m = spool->front()) {
            back.push_back(number(m->payload));
            in_flight[next_mid] = back.back();
            spool->sent(next_mid++);
          }
          ASSERT_TRUE(std::is_sorted(back.begin(), back.end())) << "seed " << seed;
          std::set<int> got(back.begin(), back.end());
          ASSERT_EQ(got.size(), back.size()) << "seed " << seed << ": a message twice";
          // An acknowledgement not yet synced may have survived (a crash keeps a prefix of unsynced
          // bytes), and a segment whose messages were all acknowledged is deleted at once: either way the
          // broker had acknowledged the message, so not seeing it again is right.
          const std::set<int> maybe_acked(unsynced_acks.begin(), unsynced_acks.end());
          for (int n : durable_messages) {
            if (!durable_acks.contains(n) && !maybe_acked.contains(n)) {
              ASSERT_TRUE(got.contains(n)) << "seed " << seed << ": durable message " << n << " lost";
            }
          }
          for (int n : got) {
            ASSERT_LT(n, next_message) << "seed " << seed;
            ASSERT_FALSE(durable_acks.contains(n) && durable_messages.contains(n))
                << "seed " << seed << ": acknowledged message " << n << " came back";
          }
          // What came back is this life's state: in flight again, its acknowledgement not yet written.
          in_flight.clear();
          int mid = next_mid - static_cast<int>(back.size());
          for (int n : back) {
            in_flight[mid++] = n;
          }
          // A message that came back unsynced is durable now only if its record survived: treat what
          // came back as the durable truth (the recovery read it from the disk's durable part).
          // What did not come back is gone for good (acknowledged, as the check above allowed).
          for (int n : durable_messages) {
            if (!got.contains(n)) {
              durable_acks.insert(n);
            }
          }
          durable_messages.insert(back.begin(), back.end());
          unsynced_messages.clear();
          unsynced_acks.clear();
          break;
        }
      }
    }
    deleted += spool->counters().segments_deleted;
  }
  EXPECT_GT(cut_commits, 100u) << "the power went inside commits";
  EXPECT_GT(deleted, 100u) << "segments were deleted";
}

}  // namespace
}  // namespace fg::mqtt
