#include "tests/bench/quorum/closed_loop.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <latch>
#include <random>
#include <thread>

#include "tests/bench/quorum/process_tools.hpp"

namespace fg::test::bench {

using Clock = std::chrono::steady_clock;

double CellResult::percentile_us(double p) const {
  if (latency_us.empty()) {
    return 0;
  }
  // Nearest rank: the smallest value with at least p% of the samples at or below it.
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(latency_us.size())));
  return latency_us[std::clamp<std::size_t>(rank, 1, latency_us.size()) - 1];
}

std::string key_name(int i) {
  char name[32];
  std::snprintf(name, sizeof name, "bench/k%02d", i);
  return name;
}

std::string make_value(std::size_t bytes, unsigned client, std::uint64_t seq) {
  char head[48];
  int len = std::snprintf(head, sizeof head, "c%u-s%llu-", client, static_cast<unsigned long long>(seq));
  std::string value(head, static_cast<std::size_t>(len));
  value.resize(bytes, 'x');
  return value;
}

namespace {

// What one client thread measured.
struct ThreadResult {
  std::vector<double> latency_us;
  std::uint64_t errors = 0;
  std::string first_error;
  std::string connect_error;
  Clock::time_point finished;
};

void run_client(KvClient& client, unsigned index, const Workload& workload, std::latch& connected,
                std::latch& go, const std::atomic<bool>& abort, ThreadResult& out) {
  if (auto c = client.connect(); !c) {
    out.connect_error = c.error();
  }
  connected.count_down();
  go.wait();
  if (abort || !out.connect_error.empty()) {
    return;
  }
  std::mt19937 random(index * 7919 + 1);
  std::uniform_int_distribution<int> pick(0, workload.keys - 1);
  auto start = Clock::now();
  auto end = start + workload.duration;
  out.latency_us.reserve(1 << 14);
  std::uint64_t seq = 0;
  for (auto now = start; now < end && !interrupted(); now = Clock::now()) {
    std::string key = key_name(pick(random));
    OpResult result = workload.op == Op::put ? client.put(key, make_value(workload.value_bytes, index, ++seq))
                                             : client.get(key);
    auto done = Clock::now();
    if (result) {
      out.latency_us.push_back(std::chrono::duration<double, std::micro>(done - now).count());
    } else if (out.errors++ == 0) {
      out.first_error = result.error();
    }
  }
  out.finished = Clock::now();
}

}  // namespace

std::expected<CellResult, std::string> run_closed_loop(std::vector<std::unique_ptr<KvClient>>& clients,
                                                       const Workload& workload) {
  std::vector<ThreadResult> results(clients.size());
  std::latch connected(static_cast<std::ptrdiff_t>(clients.size()));
  std::latch go(1);
  std::atomic<bool> abort{false};
  std::vector<std::thread> threads;
  threads.reserve(clients.size());
  for (std::size_t i = 0; i < clients.size(); ++i) {
    threads.emplace_back(run_client, std::ref(*clients[i]), static_cast<unsigned>(i), std::cref(workload),
                         std::ref(connected), std::ref(go), std::cref(abort), std::ref(results[i]));
  }
  connected.wait();
  std::string connect_error;
  for (std::size_t i = 0; i < results.size() && connect_error.empty(); ++i) {
    if (!results[i].connect_error.empty()) {
      connect_error = "client " + std::to_string(i) + ": " + results[i].connect_error;
    }
  }
  abort = !connect_error.empty();
  auto start = Clock::now();
  go.count_down();
  for (auto& t : threads) {
    t.join();
  }
  if (!connect_error.empty()) {
    return std::unexpected(connect_error);
  }
  CellResult cell;
  Clock::time_point last = start;
  for (auto& r : results) {
    cell.ops += r.latency_us.size();
    cell.errors += r.errors;
    if (cell.first_error.empty()) {
      cell.first_error = r.first_error;
    }
    cell.latency_us.insert(cell.latency_us.end(), r.latency_us.begin(), r.latency_us.end());
    last = std::max(last, r.finished);
  }
  std::sort(cell.latency_us.begin(), cell.latency_us.end());
  cell.seconds = std::chrono::duration<double>(last - start).count();
  return cell;
}

}  // namespace fg::test::bench
