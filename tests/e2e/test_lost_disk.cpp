// Issue 10 part 1 with real processes, in a site of five: a write coordinated by member 1 is stored by
// member 1 and member 2 while its stores to members 3, 4 and 5 are lost for a while (the transport's fault
// injection, replication.drop_large_to, drops the large datagrams to them). Member 2 loses its disk while
// the write is still open (SIGKILL, an empty state directory, a restart), restores from the others and
// serves. An acknowledgement from the lost disk must not complete the write: it either fails (its outcome
// unknown) or, if it completed, it is on a majority and readable through every member. Either way every
// member reads the same value afterwards.

#include <filesystem>
#include <future>
#include <iostream>

#include "quorum/disk_format.hpp"
#include "tests/e2e/replication_site.hpp"

namespace fg::e2e {
namespace {

struct Outcome {
  bool ok = false;
  std::string code;  // the control socket's code when not ok
  std::string error;
};

struct Schedule {
  const char* name;
  int drop_ms;  // how long member 1's stores to 3, 4 and 5 are lost
};

class LostDiskE2e : public ReplicationSite, public ::testing::WithParamInterface<Schedule> {
 protected:
  LostDiskE2e() {
    members_ = 5;
    timeout_ = "3s";  // room for the kill and restart while the write is open; the restore hold is 4.5 s
  }

  std::optional<Json> status(int i) {
    auto s = ask(i, {{"op", "status"}});
    return s ? std::optional<Json>((*s)["status"]) : std::nullopt;
  }
};

TEST_P(LostDiskE2e, AWriteAckedByALostDiskFailsOrIsReadableEverywhere) {
  const std::string extra =
      "drop_large_to = [3, 4, 5]\ndrop_large_for = \"" + std::to_string(GetParam().drop_ms) + "ms\"\n";
  start(1, config(1, extra));
  for (int i = 2; i <= members_; ++i) {
    start(i);
  }
  for (int i = 1; i <= members_; ++i) {
    ASSERT_TRUE(wait_serving(i)) << id(i) << logs();
  }

  const std::string value(800, 'v');  // A store of it is far above the 512 bytes the fault drops.
  auto write = std::async(std::launch::async, [&] {
    auto client = gateway::ControlClient::connect(socket(1), 2s);
    if (!client) {
      return Outcome{false, "", client.error()};
    }
    auto answer = client->request({{"op", "put"}, {"key", "k"}, {"value", value}}, 20s);
    return Outcome{answer.has_value(), client->last_failure().code, answer ? "" : answer.error()};
  });

  // The site is new and has no devices, so member 2 holds a key only once it stored (and acknowledged)
  // the write's value. Then it loses its disk, while the write is still open.
  auto deadline = Clock::now() + kWait;
  while (Clock::now() < deadline) {
    auto s = status(2);
    if (s && (*s)["replication"]["keys"] == 1) {
      break;
    }
    std::this_thread::sleep_for(10ms);
  }
  auto stored = status(2);
  ASSERT_TRUE(stored && (*stored)["replication"]["keys"] == 1) << "member 2 never stored the write" << logs();
  kill(2);
  EXPECT_EQ(write.wait_for(0s), std::future_status::timeout)
      << "the write completed before member 2 lost its disk: the schedule was not made";
  std::filesystem::remove_all(state_dir(2));
  start(2);

  Outcome outcome = write.get();
  const bool acknowledged = outcome.ok;
  if (!acknowledged) {
    EXPECT_EQ(outcome.code, "outcome_unknown") << outcome.error << logs();
  }
  auto faulty = status(1);
  ASSERT_TRUE(faulty);
  EXPECT_GT((*faulty)["replication"]["datagrams"]["large_dropped"].get<int>(), 0)
      << "the fault injection dropped nothing";

  ASSERT_TRUE(wait_serving(2)) << logs();
  EXPECT_NE(log(2).find("restor"), std::string::npos) << log(2);
  // One value for everyone: the write's if it was acknowledged; else the write's or none, but the same
  // through every member (a read that returns it writes it back to a majority first).
  std::optional<Json> first;
  for (int i = 1; i <= members_; ++i) {
    // While member 1 still drops its large stores, a read through it that must write the value back
    // fails (no quorum): it is tried again until the fault is over.
    auto read = get(i, "k");
    for (auto until = Clock::now() + 3 * kWait; !read && Clock::now() < until;) {
      std::this_thread::sleep_for(200ms);
      read = get(i, "k");
    }
    ASSERT_TRUE(read && (*read)["ok"] == true)
        << id(i) << ": " << (read ? read->dump() : read.error()) << logs();
    if (acknowledged) {
      EXPECT_EQ((*read)["value"], value) << "an acknowledged write is not readable through " << id(i);
    }
    if (!first) {
      first = (*read)["value"];
    }
    EXPECT_EQ((*read)["value"], *first) << id(i) << " reads another value than " << id(1);
  }
  std::cout << GetParam().name << ": the write was " << (acknowledged ? "acknowledged" : "not acknowledged")
            << ", and every member reads " << (first->is_null() ? "no value" : "the written value") << "\n";
}

// Issue 10 part 2: member 3 gets a new SD card while its clock is 10 minutes behind, so its first boot
// epoch is below the one its peers remember, and they drop everything it sends as replays. They tell it
// (an authenticated epoch notice), it moves past that epoch and restores; each peer logs the episode of
// replays it dropped, once when it starts and once when it ends, with the count.
class EpochBehindE2e : public ReplicationSite {};

TEST_F(EpochBehindE2e, AMemberOnANewSdCardWithItsClockBehindRejoinsAndPeersLogTheReplays) {
  start_all();
  for (int i = 1; i <= members_; ++i) {
    ASSERT_TRUE(wait_serving(i)) << id(i) << logs();
  }
  ASSERT_TRUE(put(1, "k", "before the new card"));
  auto s = ask(3, {{"op", "status"}});
  ASSERT_TRUE(s);
  const auto remembered = (*s)["status"]["replication"]["epoch"].get<std::uint64_t>();
  kill(3);
  std::filesystem::remove_all(state_dir(3));
  // The new card's first epoch, taken from a clock 10 minutes behind (the daemon takes the wall clock in
  // ms when the directory has no epoch file; a file holding that value is the same start, without
  // turning this machine's clock back).
  std::filesystem::create_directory(state_dir(3));
  std::filesystem::permissions(state_dir(3), std::filesystem::perms::owner_all);
  test::write_file(state_dir(3) / "epoch", quorum::disk_format::encode_epoch(remembered - 600'000));
  start(3);
  ASSERT_TRUE(wait_serving(3)) << logs();
  auto after = ask(3, {{"op", "status"}});
  ASSERT_TRUE(after);
  EXPECT_GT((*after)["status"]["replication"]["epoch"].get<std::uint64_t>(), remembered);
  EXPECT_NE(log(3).find("moved to boot epoch"), std::string::npos) << log(3);
  auto read = get(3, "k");
  ASSERT_TRUE(read) << read.error();
  EXPECT_EQ((*read)["value"], "before the new card");
  // A peer's drop episode ends once member 3's datagrams are fresh again.
  auto deadline = Clock::now() + 3 * kWait;
  auto ended = [&] {
    return log(1).find("stopped dropping datagrams of peer 3 as replays") != std::string::npos ||
           log(2).find("stopped dropping datagrams of peer 3 as replays") != std::string::npos;
  };
  while (!ended() && Clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
  }
  auto peer1 = ask(1, {{"op", "status"}});
  EXPECT_TRUE(ended()) << (peer1 ? (*peer1)["status"]["replication"].dump() : "") << logs();
  EXPECT_TRUE(log(1).find("dropping datagrams of peer 3 as replays (") != std::string::npos ||
              log(2).find("dropping datagrams of peer 3 as replays (") != std::string::npos)
      << logs();
}

INSTANTIATE_TEST_SUITE_P(Schedules, LostDiskE2e,
                         ::testing::Values(Schedule{"StoresLostPastTheDeadline", 6000},
                                           Schedule{"StoresArriveInTime", 1500}),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace fg::e2e
