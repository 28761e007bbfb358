// The protocol core on a perfect, hand-driven network: each test states one rule of the protocol.
// (Faults, crashes and concurrency at scale are the simulation's job, in tests/sim.)

#include "quorum/core.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <memory>

#include "quorum/boot_epoch.hpp"
#include "quorum/log_storage.hpp"
#include "quorum/replica_log.hpp"
#include "quorum/wire.hpp"
#include "tests/storage/sim_disk.hpp"

namespace fg::quorum {
namespace {

struct Datagram {
  NodeId from;
  std::uint64_t epoch;
  NodeId to;
  std::vector<std::uint8_t> payload;
};

class Site;

struct TestMember final : Env {
  Site* site = nullptr;
  NodeId id = 0;
  std::uint64_t epoch = 0;
  test::SimDisk disk;
  std::unique_ptr<LogStorage> storage;
  std::unique_ptr<Core> core;
  Millis now() const override;
  void send(NodeId to, std::span<const std::uint8_t> payload) override;
};

class Site {
 public:
  explicit Site(int members) {
    for (int i = 1; i <= members; ++i) {
      auto m = std::make_unique<TestMember>();
      m->site = this;
      m->id = static_cast<NodeId>(i);
      members_.push_back(std::move(m));
    }
  }
  // Starts every member of a new site; they find that none has state and start empty.
  void start_all() {
    for (auto& m : members_) {
      start(m->id);
    }
    settle();
  }
  void start(NodeId id) {
    TestMember& m = member(id);
    m.epoch = *next_boot_epoch(m.disk);
    auto opened = open_replica_log(m.disk);
    ASSERT_TRUE(opened);
    m.storage = std::make_unique<LogStorage>(std::move(opened->log));
    CoreConfig config;
    config.self = id;
    for (auto& other : members_) {
      config.members.push_back(other->id);
    }
    config.epoch = m.epoch;
    config.coordinator = coordinator_options;
    m.core = std::make_unique<Core>(config, m, *m.storage, std::move(opened->recovered.entries),
                                    opened->recovered.initialized);
    m.core->end_of_step();
  }
  void stop(NodeId id) {
    member(id).core.reset();
    member(id).storage.reset();
  }
  TestMember& member(NodeId id) { return *members_[id - 1]; }
  Core& core(NodeId id) { return *member(id).core; }

  // Delivers every datagram in flight (and those the deliveries cause) to running members, dropping
  // those to `cut` members; advances time by 1 ms per round so no retransmission is due. `rounds` stops
  // it early: the replies of round N are the datagrams of round N + 1.
  void settle(std::vector<NodeId> cut = {}, int rounds = 100) {
    for (int round = 0; round < rounds && !wire_.empty(); ++round) {
      auto batch = std::move(wire_);
      wire_.clear();
      for (auto& d : batch) {
        bool down = std::find(cut.begin(), cut.end(), d.to) != cut.end() ||
                    std::find(cut.begin(), cut.end(), d.from) != cut.end();
        if (!down && member(d.to).core) {
          member(d.to).core->on_datagram(d.from, d.epoch, d.payload);
          member(d.to).core->end_of_step();
        }
      }
    }
  }
  // Fires every member's timers up to `until`.
  void advance(Millis until, std::vector<NodeId> cut = {}) {
    while (now_ < until) {
      now_ += Millis(10);
      for (auto& m : members_) {
        if (m->core && m->core->next_deadline() <= now_) {
          m->core->on_timer();
          m->core->end_of_step();
        }
      }
      settle(cut);
    }
  }
  std::size_t datagrams_sent() const { return sent_; }
  CoordinatorOptions coordinator_options;  // for the members started after it is set
  Millis now_{0};
  std::deque<Datagram> wire_;
  std::size_t sent_ = 0;

 private:
  std::vector<std::unique_ptr<TestMember>> members_;
};

Millis TestMember::now() const {
  return site->now_;
}
void TestMember::send(NodeId to, std::span<const std::uint8_t> payload) {
  site->wire_.push_back({id, epoch, to, {payload.begin(), payload.end()}});
  ++site->sent_;
}

struct Outcome {
  bool done = false;
  OpResult<Versioned> read = std::unexpected(OpError{});
  OpResult<Tag> write = std::unexpected(OpError{});
};

void write(Site& site, NodeId via, const std::string& key, const std::string& value, Outcome& out) {
  site.core(via).write(key, value, [&out](OpResult<Tag> r) {
    out.done = true;
    out.write = std::move(r);
  });
  site.core(via).end_of_step();
}

void read(Site& site, NodeId via, const std::string& key, Outcome& out) {
  site.core(via).read(key, [&out](OpResult<Versioned> r) {
    out.done = true;
    out.read = std::move(r);
  });
  site.core(via).end_of_step();
}

TEST(Core, AWriteIsReadBackThroughAnotherMemberInOneRoundTrip) {
  Site site(3);
  site.start_all();
  site.settle();
  Outcome w, r;
  write(site, 1, "gw/t", "21.5", w);
  site.settle();
  ASSERT_TRUE(w.done);
  ASSERT_TRUE(w.write) << w.write.error().message();
  EXPECT_EQ(w.write->writer, 1u);
  EXPECT_EQ(w.write->counter, 1u);
  read(site, 3, "gw/t", r);
  site.settle();
  ASSERT_TRUE(r.done && r.read);
  EXPECT_EQ(r.read->value, "21.5");
  EXPECT_EQ(site.core(3).coordinator_counters().reads_with_write_back, 0u);
}

TEST(Core, AKeyNeverWrittenReadsAsTheZeroTag) {
  Site site(3);
  site.start_all();
  Outcome r;
  read(site, 2, "nothing", r);
  site.settle();
  ASSERT_TRUE(r.done && r.read);
  EXPECT_TRUE(r.read->tag.is_zero());
}

TEST(Core, AWriteThatReachesOnlyAMinorityFailsWithAClearError) {
  Site site(3);
  site.start_all();
  Outcome w;
  write(site, 1, "k", "old", w);
  site.settle();
  // A second write reaches only member 1 (2 and 3 are cut off): it is on a minority, and fails.
  Outcome w2;
  write(site, 1, "k", "new", w2);
  site.advance(Millis(2500), {2, 3});
  ASSERT_TRUE(w2.done);
  EXPECT_FALSE(w2.write);
  EXPECT_EQ(w2.write.error().code, OpErrc::no_quorum) << w2.write.error().message();
  // Member 1 holds "new" locally only if phase 2 ran; a phase-1 failure stored nothing anywhere.
  Outcome r;
  read(site, 1, "k", r);
  site.settle();
  ASSERT_TRUE(r.done && r.read);
  EXPECT_EQ(r.read->value, "old");
}

TEST(Core, WriteBackHappensWhenOnlyOneReplicaHoldsTheNewestTag) {
  Site site(3);
  site.start_all();
  // Plant a store at member 2 only, as a writer that crashed after its first store would leave it.
  Message store;
  store.type = MessageType::store;
  store.request = 1;
  store.key = "k";
  store.versioned = {{7, 3, 1}, "partial"};
  std::vector<std::uint8_t> payload;
  encode(store, payload);
  site.core(2).on_datagram(3, site.member(3).epoch, payload);
  site.core(2).end_of_step();
  site.wire_.clear();  // the ack to member 3 is of no interest

  Outcome r;
  read(site, 1, "k", r);
  site.settle({3});  // 1 and 2 answer; 2 has the newer tag, 1 does not: a write-back is needed
  ASSERT_TRUE(r.done && r.read);
  EXPECT_EQ(r.read->value, "partial");
  EXPECT_EQ(site.core(1).coordinator_counters().reads_with_write_back, 1u);
  ASSERT_TRUE(site.core(1).entries().contains("k"));
  EXPECT_EQ(site.core(1).entries().find("k")->second.value, "partial");
}

TEST(Core, ConcurrentWritesOfOneCoordinatorToOneKeyGetDistinctTags) {
  Site site(3);
  site.start_all();
  Outcome a, b;
  site.core(1).write("k", "a", [&](OpResult<Tag> t) { a.done = true, a.write = t; });
  site.core(1).write("k", "b", [&](OpResult<Tag> t) { b.done = true, b.write = t; });
  site.core(1).end_of_step();
  site.settle();
  ASSERT_TRUE(a.done && b.done && a.write && b.write);
  EXPECT_NE(*a.write, *b.write);
}

TEST(Core, OperationsOnManyKeysShareDatagrams) {
  Site site(3);
  site.start_all();
  site.settle();
  std::size_t before = site.datagrams_sent();
  std::vector<Outcome> outs(50);
  for (int i = 0; i < 50; ++i) {
    site.core(1).write("key" + std::to_string(i), "v", [&outs, i](OpResult<Tag> t) {
      outs[i].done = true;
      outs[i].write = t;
    });
  }
  site.core(1).end_of_step();
  site.settle();
  for (auto& out : outs) {
    ASSERT_TRUE(out.done && out.write);
  }
  // Two phases of 50 requests and their replies to and from two peers: 400 messages, in a few datagrams.
  EXPECT_LT(site.datagrams_sent() - before, 40u);
}

TEST(Core, AMemberThatLostItsDiskRestoresFromTheOthersAndStaysSilentUntilThen) {
  Site site(3);
  site.start_all();
  Outcome w;
  write(site, 1, "k", "kept", w);
  site.settle();
  ASSERT_TRUE(w.write);

  site.stop(3);
  site.member(3).disk = test::SimDisk{};  // a new SD card
  site.start(3);
  EXPECT_EQ(site.core(3).state(), ReplicaState::restoring);
  site.settle({2});  // only member 1 answers: not enough to restore (needs both others)
  EXPECT_EQ(site.core(3).state(), ReplicaState::restoring);
  site.advance(Millis(1000));  // the restorer asks again; now 1 and 2 answer, but the hold is not over
  EXPECT_EQ(site.core(3).state(), ReplicaState::restoring);
  site.advance(Millis(3500));  // 1.5 x the 2 s operation timeout: the pages are read again, and count
  EXPECT_EQ(site.core(3).state(), ReplicaState::serving);
  ASSERT_TRUE(site.core(3).entries().contains("k"));
  EXPECT_EQ(site.core(3).entries().find("k")->second.value, "kept");
}

TEST(Core, ANewSiteStartsEmptyOnceAMajorityHasNoState) {
  Site site(3);
  for (NodeId id : {1u, 2u, 3u}) {
    site.start(id);
    EXPECT_EQ(site.core(id).state(), ReplicaState::restoring);
  }
  site.settle();
  for (NodeId id : {1u, 2u, 3u}) {
    EXPECT_EQ(site.core(id).state(), ReplicaState::serving) << id;
  }
}

TEST(Core, ARestartedMemberKeepsWhatItAcknowledged) {
  Site site(3);
  site.start_all();
  Outcome w;
  write(site, 1, "k", "durable", w);
  site.settle();
  ASSERT_TRUE(w.write);
  for (NodeId id : {1u, 2u, 3u}) {
    site.stop(id);
    std::mt19937_64 rng(id);
    site.member(id).disk.crash(rng);
    site.start(id);
    EXPECT_EQ(site.core(id).state(), ReplicaState::serving);
    ASSERT_TRUE(site.core(id).entries().contains("k")) << id;
  }
}

TEST(Core, InvalidKeysAndValuesFailAtOnceWithTheirOwnCodes) {
  Site site(3);
  site.start_all();
  std::size_t before = site.datagrams_sent();
  Outcome empty, long_key, large_value, long_read;
  write(site, 1, "", "v", empty);
  write(site, 1, std::string(kMaxKeySize + 1, 'k'), "v", long_key);
  write(site, 1, "k", std::string(kMaxValueSize + 1, 'v'), large_value);
  read(site, 1, std::string(kMaxKeySize + 1, 'k'), long_read);
  ASSERT_TRUE(empty.done && long_key.done && large_value.done && long_read.done);  // no network needed
  EXPECT_EQ(empty.write.error().code, OpErrc::empty_key);
  EXPECT_EQ(long_key.write.error().code, OpErrc::key_too_long);
  EXPECT_EQ(large_value.write.error().code, OpErrc::value_too_large);
  EXPECT_EQ(long_read.read.error().code, OpErrc::key_too_long);
  EXPECT_EQ(large_value.write.error().code, std::errc::value_too_large);  // and the generic condition
  EXPECT_EQ(site.datagrams_sent(), before);
  EXPECT_EQ(site.core(1).operations_in_flight(), 0u);
}

TEST(Core, AWriteWhoseStorePhaseTimesOutHasAnUnknownOutcome) {
  Site site(3);
  site.start_all();
  Outcome w;
  write(site, 1, "k", "v", w);
  // Phase 1 completes with member 2; then both peers go silent: the store reached member 1 only.
  site.settle();
  ASSERT_TRUE(w.done);
  Outcome w2;
  write(site, 1, "k", "v2", w2);
  // Deliver the tag queries and their replies, but none of the stores.
  site.settle({}, 2);
  site.advance(Millis(2500), {2, 3});
  ASSERT_TRUE(w2.done);
  ASSERT_FALSE(w2.write);
  EXPECT_EQ(w2.write.error().code, OpErrc::outcome_unknown) << w2.write.error().message();
  EXPECT_EQ(w2.write.error().code, std::errc::timed_out);
}

TEST(Core, OneOperationBeyondTheCapFailsAtOnceWithBusyAndTheCapRecovers) {
  EXPECT_EQ(CoordinatorOptions{}.max_in_flight, 1024u);  // the default the docs give reasons for
  Site site(3);
  site.start_all();
  const std::size_t cap = CoordinatorOptions{}.max_in_flight;
  // `cap` writes stay open: their requests to the peers sit on the wire, undelivered.
  std::vector<Outcome> open(cap);
  for (std::size_t i = 0; i < cap; ++i) {
    write(site, 1, "k" + std::to_string(i), "v", open[i]);
  }
  EXPECT_EQ(site.core(1).operations_in_flight(), cap);
  Outcome refused, refused_read;
  write(site, 1, "one-more", "v", refused);
  read(site, 1, "one-more", refused_read);
  ASSERT_TRUE(refused.done && refused_read.done);  // at once, without the network
  EXPECT_EQ(refused.write.error().code, OpErrc::busy);
  EXPECT_EQ(refused_read.read.error().code, OpErrc::busy);
  EXPECT_EQ(site.core(1).coordinator_counters().busy, 2u);
  EXPECT_EQ(site.core(1).operations_in_flight(), cap);
  // The network delivers: every open write completes, and the coordinator takes new operations again.
  site.settle();
  for (auto& out : open) {
    ASSERT_TRUE(out.done && out.write);
  }
  EXPECT_EQ(site.core(1).operations_in_flight(), 0u);
  Outcome later;
  write(site, 1, "one-more", "v", later);
  site.settle();
  ASSERT_TRUE(later.done && later.write) << later.write.error().message();
}

// How many operations one timer tick visits when one operation is due and `idle` others are open but not.
std::uint64_t visits_of_a_tick_with(std::size_t idle) {
  Site site(3);
  site.start_all();
  Outcome due;
  write(site, 1, "due", "v", due);
  site.now_ = Millis(10);  // the others start later, so their retransmissions fall due later
  std::vector<Outcome> others(idle);
  for (std::size_t i = 0; i < idle; ++i) {
    write(site, 1, "idle" + std::to_string(i), "v", others[i]);
  }
  site.wire_.clear();                                   // every request is lost: nothing answers
  site.now_ = CoordinatorOptions{}.initial_retransmit;  // the first write's retransmission is due, no other
  auto before = site.core(1).coordinator_counters();
  site.core(1).on_timer();
  site.core(1).end_of_step();
  auto after = site.core(1).coordinator_counters();
  EXPECT_EQ(after.retransmissions - before.retransmissions, 2u);  // the due write, to both peers
  EXPECT_EQ(site.core(1).operations_in_flight(), idle + 1);
  return after.timer_visits - before.timer_visits;
}

TEST(Core, ATimerTickVisitsOnlyTheOperationsThatAreDueNotAllThatAreOpen) {
  EXPECT_EQ(visits_of_a_tick_with(0), 1u);
  EXPECT_EQ(visits_of_a_tick_with(10), 1u);
  EXPECT_EQ(visits_of_a_tick_with(1000), 1u);
}

TEST(Core, AReplyAfterTheDeadlineNeverCompletesAnOperation) {
  // A coordinator stopped (SIGSTOP) past its operation's deadline reads, on resuming, the
  // acknowledgements that queued up meanwhile before its timer runs. They must not complete the write:
  // a replica that has since lost its disk may be among them (docs/quorum.md, "A lost disk never counts").
  Site site(3);
  site.start_all();
  Outcome w;
  write(site, 1, "k", "v", w);
  // Phase 1 completes; the stores leave, and their acknowledgements are held back.
  site.settle({}, 2);
  auto stores = std::move(site.wire_);
  site.wire_.clear();
  for (auto& d : stores) {
    site.core(d.to).on_datagram(d.from, d.epoch, d.payload);
    site.core(d.to).end_of_step();
  }
  ASSERT_FALSE(site.wire_.empty());  // the acknowledgements to member 1
  ASSERT_FALSE(w.done);
  site.now_ = CoordinatorOptions{}.op_timeout + Millis(1);  // resumed after the deadline, timer not run
  site.settle();
  ASSERT_TRUE(w.done);
  ASSERT_FALSE(w.write);
  EXPECT_EQ(w.write.error().code, OpErrc::outcome_unknown) << w.write.error().message();
}

TEST(Core, ARestoreReadBeforeTheHoldIsReadAgainAfterIt) {
  Site site(3);
  site.start_all();
  site.stop(3);
  site.member(3).disk = test::SimDisk{};
  site.start(3);
  site.settle();                                             // both peers send every page at once
  EXPECT_EQ(site.core(3).state(), ReplicaState::restoring);  // read too early: thrown away
  // A write lands on 1 and 2 after that early read: the restore must see it.
  Outcome w;
  write(site, 1, "late", "v", w);
  site.settle({3});
  ASSERT_TRUE(w.done && w.write);
  site.advance(CoordinatorOptions{}.op_timeout * 3 / 2 + Millis(100));
  EXPECT_EQ(site.core(3).state(), ReplicaState::serving);
  ASSERT_TRUE(site.core(3).entries().contains("late"));
}

}  // namespace
}  // namespace fg::quorum
