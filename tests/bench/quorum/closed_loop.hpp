#pragma once
// run_closed_loop: N clients, each on its own thread, each issuing its next operation as soon as the
// previous one returned, for a fixed time. The offered load is whatever the store can take, which is what
// "throughput with N concurrent clients" means; latency is measured per operation on the client.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tests/bench/quorum/kv_client.hpp"

namespace fg::test::bench {

enum class Op { put, get };

struct Workload {
  Op op = Op::put;
  std::chrono::milliseconds duration{5000};
  int keys = 100;                // keys "bench/k00".. spread uniformly at random
  std::size_t value_bytes = 64;  // every value has this size
};

struct CellResult {
  std::uint64_t ops = 0;     // operations that succeeded
  std::uint64_t errors = 0;  // operations that failed (not counted in ops or latencies)
  std::string first_error;
  double seconds = 0;              // from the start signal to the end of the last operation
  std::vector<double> latency_us;  // of every successful operation, sorted
  double throughput() const { return seconds > 0 ? static_cast<double>(ops) / seconds : 0; }
  double percentile_us(double p) const;
};

// The name of key number i ("bench/k07").
std::string key_name(int i);
// A printable value of `bytes` characters that differs from client to client and from call to call.
std::string make_value(std::size_t bytes, unsigned client, std::uint64_t seq);

// Connects every client (connection set-up is not measured), then lets all of them go at once. Fails with
// the first connection error. Stops early, with what was measured so far, if interrupted() is set.
std::expected<CellResult, std::string> run_closed_loop(std::vector<std::unique_ptr<KvClient>>& clients,
                                                       const Workload& workload);

}  // namespace fg::test::bench
