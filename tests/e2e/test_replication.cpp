// The replicated register across three real fieldgate processes: concurrent clients (the control-socket
// protocol of `fieldgate get/put`) while a member is killed with SIGKILL and restarted, paused with
// SIGSTOP and resumed, or cut off by the transport's fault injection. Every history must be
// linearizable (the checker of tests/sim) and no acknowledged write may be lost.

#include <atomic>
#include <mutex>
#include <random>

#include "tests/e2e/replication_site.hpp"
#include "tests/sim/checker/linearizability.hpp"

namespace fg::e2e {
namespace {

using test::lin::Operation;

class ReplicationE2e : public ReplicationSite {
 protected:
  std::int64_t now_us() const {
    return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - epoch_).count();
  }

  // Clients issue reads and writes on two keys, each through its own member, until `faults` returns;
  // then every member reads every key. Returns the whole history.
  std::vector<Operation> run_workload(const std::function<void()>& faults) {
    std::atomic<bool> done{false};
    std::vector<std::thread> threads;
    for (int c = 0; c < 6; ++c) {
      threads.emplace_back([&, c] { client(c, done); });
    }
    faults();
    done = true;
    for (auto& t : threads) {
      t.join();
    }
    for (int i = 1; i <= kMembers; ++i) {
      EXPECT_TRUE(wait_serving(i)) << id(i) << logs();
    }
    for (const char* key : {"k0", "k1"}) {
      for (int i = 1; i <= kMembers; ++i) {
        Operation op{Operation::Kind::read, key, std::nullopt, now_us(), test::lin::kNeverReturned, -i};
        auto answer = get(i, key);
        EXPECT_TRUE(answer) << "final read through " << id(i) << ": " << answer.error() << logs();
        if (answer) {
          op.ret = now_us();
          if (!(*answer)["value"].is_null()) {
            op.value = (*answer)["value"].get<std::string>();
          }
          record(op);
        }
      }
    }
    return history_;
  }

  void client(int c, std::atomic<bool>& done) {
    std::mt19937 rng(static_cast<unsigned>(c) * 7919u + 1);
    int member = c % kMembers + 1;
    std::optional<gateway::ControlClient> connection;
    int written = 0;
    while (!done) {
      if (!connection) {
        auto opened = gateway::ControlClient::connect(socket(member), 500ms);
        if (!opened) {
          member = member % kMembers + 1;  // that member is down: use another, as a user would
          std::this_thread::sleep_for(20ms);
          continue;
        }
        connection.emplace(std::move(*opened));
      }
      Operation op;
      op.key = "k" + std::to_string(rng() % 2);
      op.client = c;
      bool write = rng() % 2 == 0;
      op.kind = write ? Operation::Kind::write : Operation::Kind::read;
      Json request{{"op", write ? "put" : "get"}, {"key", op.key}};
      if (write) {
        op.value = "c" + std::to_string(c) + "." + std::to_string(++written);
        request["value"] = *op.value;
      }
      op.call = now_us();
      auto answer = connection->request(request, 5s);
      if (answer) {
        op.ret = now_us();
        if (!write && !(*answer)["value"].is_null()) {
          op.value = (*answer)["value"].get<std::string>();
        }
        write ? ++acknowledged_writes_ : ++successful_reads_;
      } else {
        op.ret = test::lin::kNeverReturned;  // outcome unknown: a write may or may not have happened
        ++failures_;
        connection.reset();
      }
      record(op);
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 4));
    }
  }

  void record(const Operation& op) {
    std::lock_guard lock(mutex_);
    history_.push_back(op);
  }

  void expect_linearizable(const std::vector<Operation>& history) {
    auto result = test::lin::check(history, 20'000'000);
    EXPECT_EQ(result.verdict, test::lin::Verdict::linearizable)
        << "key " << result.key << ": " << result.explanation << logs();
    // The fault must not have stopped the site: writes were acknowledged throughout.
    EXPECT_GT(acknowledged_writes_.load(), 20);
    EXPECT_GT(successful_reads_.load(), 20);
  }

  Clock::time_point epoch_ = Clock::now();
  std::mutex mutex_;
  std::vector<Operation> history_;
  std::atomic<int> acknowledged_writes_{0};
  std::atomic<int> successful_reads_{0};
  std::atomic<int> failures_{0};
};

TEST_F(ReplicationE2e, AMemberKilledAndRestartedLosesNoAcknowledgedWrite) {
  start_all();
  for (int i = 1; i <= kMembers; ++i) {
    ASSERT_TRUE(wait_serving(i)) << logs();
  }
  auto history = run_workload([&] {
    std::this_thread::sleep_for(700ms);
    kill(2);  // SIGKILL: whatever was not fsynced is gone
    std::this_thread::sleep_for(800ms);
    start(2);
    std::this_thread::sleep_for(800ms);
  });
  expect_linearizable(history);
  EXPECT_NE(log(2).find("boot epoch"), std::string::npos) << logs();
}

TEST_F(ReplicationE2e, AMemberPausedWithSigstopCatchesUpWhenResumed) {
  start_all();
  for (int i = 1; i <= kMembers; ++i) {
    ASSERT_TRUE(wait_serving(i)) << logs();
  }
  auto history = run_workload([&] {
    std::this_thread::sleep_for(500ms);
    signal(3, SIGSTOP);
    std::this_thread::sleep_for(1200ms);
    signal(3, SIGCONT);
    std::this_thread::sleep_for(800ms);
  });
  expect_linearizable(history);
}

TEST_F(ReplicationE2e, AMemberCutOffByFaultInjectionFailsClearlyAndTheOthersServe) {
  start_all();
  for (int i = 1; i <= kMembers; ++i) {
    ASSERT_TRUE(wait_serving(i)) << logs();
  }
  std::string cut_off_error;
  auto history = run_workload([&] {
    std::this_thread::sleep_for(400ms);
    stop(3);
    start(3, config(3, "drop_peers = [1, 2]\n"));
    auto answer = put(3, "k0", "from the cut-off member");
    cut_off_error = answer ? "it succeeded" : answer.error();
    std::this_thread::sleep_for(600ms);
    stop(3);
    start(3);
    std::this_thread::sleep_for(600ms);
  });
  expect_linearizable(history);
  EXPECT_NE(cut_off_error.find("no quorum for write of 'k0'"), std::string::npos) << cut_off_error;
  EXPECT_NE(log(3).find("fault injection"), std::string::npos) << logs();
}

TEST_F(ReplicationE2e, AMajorityDownMakesOperationsTimeOutWithAClearError) {
  start_all();
  for (int i = 1; i <= kMembers; ++i) {
    ASSERT_TRUE(wait_serving(i)) << logs();
  }
  ASSERT_TRUE(put(1, "k", "before"));
  kill(2);
  kill(3);
  auto write = put(1, "k", "after");
  ASSERT_FALSE(write);
  EXPECT_NE(write.error().find("no quorum for write of 'k'"), std::string::npos) << write.error();
  auto read = get(1, "k");
  ASSERT_FALSE(read);
  EXPECT_NE(read.error().find("no quorum for read of 'k'"), std::string::npos) << read.error();
  start(2);
  auto again = get(1, "k");
  ASSERT_TRUE(again) << again.error() << logs();
  EXPECT_EQ((*again)["value"], "before");
  start(3);
}

}  // namespace
}  // namespace fg::e2e
