// The closed-loop load: every operation counted once, failures apart, connection failures before the load.

#include "tests/bench/quorum/closed_loop.hpp"

#include <gtest/gtest.h>

#include <atomic>

namespace fg::test::bench {
namespace {

using namespace std::chrono_literals;

// A store that answers at once; it counts calls, and fails every `fail_every`-th one if asked.
class CountingClient final : public KvClient {
 public:
  explicit CountingClient(int fail_every = 0, bool refuse_connect = false)
      : fail_every_(fail_every), refuse_connect_(refuse_connect) {}

  OpResult connect() override {
    if (refuse_connect_) {
      return std::unexpected("refused");
    }
    return {};
  }
  OpResult put(const std::string& key, const std::string& value) override {
    last_key = key;
    last_value = value;
    return count(puts);
  }
  OpResult get(const std::string& key) override {
    last_key = key;
    return count(gets);
  }

  std::uint64_t puts = 0;
  std::uint64_t gets = 0;
  std::uint64_t failures = 0;
  std::string last_key;
  std::string last_value;

 private:
  OpResult count(std::uint64_t& calls) {
    ++calls;
    if (fail_every_ > 0 && calls % static_cast<std::uint64_t>(fail_every_) == 0) {
      ++failures;
      return std::unexpected("boom");
    }
    return {};
  }

  int fail_every_;
  bool refuse_connect_;
};

CountingClient& as_counting(std::unique_ptr<KvClient>& client) {
  return static_cast<CountingClient&>(*client);
}

TEST(ClosedLoop, CountsEveryOperationOfEveryClient) {
  std::vector<std::unique_ptr<KvClient>> clients;
  for (int i = 0; i < 4; ++i) {
    clients.push_back(std::make_unique<CountingClient>());
  }
  auto cell = run_closed_loop(clients, Workload{Op::put, 50ms, 10, 64});
  ASSERT_TRUE(cell.has_value()) << cell.error();

  std::uint64_t calls = 0;
  for (auto& client : clients) {
    EXPECT_GT(as_counting(client).puts, 0u) << "every client takes part";
    EXPECT_EQ(as_counting(client).gets, 0u);
    EXPECT_EQ(as_counting(client).last_value.size(), 64u);
    EXPECT_TRUE(as_counting(client).last_key.starts_with("bench/k"));
    calls += as_counting(client).puts;
  }
  EXPECT_EQ(cell->ops, calls);
  EXPECT_EQ(cell->latency_us.size(), calls);
  EXPECT_TRUE(std::is_sorted(cell->latency_us.begin(), cell->latency_us.end()));
  EXPECT_EQ(cell->errors, 0u);
  EXPECT_GT(cell->seconds, 0.0);
  EXPECT_GT(cell->throughput(), 0.0);
}

TEST(ClosedLoop, FailedOperationsAreCountedApart) {
  std::vector<std::unique_ptr<KvClient>> clients;
  clients.push_back(std::make_unique<CountingClient>(/*fail_every=*/2));
  auto cell = run_closed_loop(clients, Workload{Op::get, 20ms, 10, 64});
  ASSERT_TRUE(cell.has_value()) << cell.error();

  auto& client = as_counting(clients[0]);
  EXPECT_GT(client.failures, 0u);
  EXPECT_EQ(cell->errors, client.failures);
  EXPECT_EQ(cell->ops, client.gets - client.failures);
  EXPECT_EQ(cell->latency_us.size(), cell->ops);
  EXPECT_EQ(cell->first_error, "boom");
}

TEST(ClosedLoop, AConnectionFailureFailsTheCellBeforeAnyOperation) {
  std::vector<std::unique_ptr<KvClient>> clients;
  clients.push_back(std::make_unique<CountingClient>());
  clients.push_back(std::make_unique<CountingClient>(0, /*refuse_connect=*/true));
  auto cell = run_closed_loop(clients, Workload{Op::put, 20ms, 10, 64});
  ASSERT_FALSE(cell.has_value());
  EXPECT_EQ(cell.error(), "client 1: refused");
  EXPECT_EQ(as_counting(clients[0]).puts, 0u);
  EXPECT_EQ(as_counting(clients[1]).puts, 0u);
}

TEST(CellResult, PercentilesAreNearestRank) {
  CellResult cell;
  EXPECT_EQ(cell.percentile_us(50), 0.0);
  for (int i = 1; i <= 100; ++i) {
    cell.latency_us.push_back(i);
  }
  EXPECT_EQ(cell.percentile_us(50), 50.0);
  EXPECT_EQ(cell.percentile_us(99), 99.0);
  EXPECT_EQ(cell.percentile_us(100), 100.0);
  EXPECT_EQ(cell.percentile_us(0), 1.0);
}

TEST(Workload, ValuesHaveTheirSizeAndDifferByClientAndCall) {
  EXPECT_EQ(make_value(64, 3, 7).size(), 64u);
  EXPECT_NE(make_value(64, 3, 7), make_value(64, 4, 7));
  EXPECT_NE(make_value(64, 3, 7), make_value(64, 3, 8));
  EXPECT_EQ(key_name(7), "bench/k07");
  EXPECT_EQ(key_name(99), "bench/k99");
}

}  // namespace
}  // namespace fg::test::bench
