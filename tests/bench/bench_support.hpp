#pragma once
// Parts shared by the end-to-end benchmarks (bench_gateway_e2e, bench_spool): /proc readings, a
// subscriber that counts readings and the latency each carries, pty writes, percentiles.

#include <mosquitto.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace fg::bench {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

inline std::int64_t monotonic_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// A value of /proc/PID/status ("VmRSS:", "voluntary_ctxt_switches:"), as a number.
inline long proc_status(pid_t pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) {
      return std::stol(line.substr(key.size()));
    }
  }
  return -1;
}

// User + system CPU time of a process, in seconds.
inline double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close_paren = stat.rfind(')');
  std::istringstream fields(stat.substr(close_paren + 2));
  std::string skip;
  for (int i = 0; i < 11; ++i) {
    fields >> skip;  // fields 3..13
  }
  double utime = 0, stime = 0;
  fields >> utime >> stime;
  return (utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// An environment variable's value, or `fallback` if it is unset: the benchmarks' experiment knobs.
inline std::string env_or(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : fallback;
}

// Counts readings and, when asked, records the latency each one carries in its value.
class Subscriber {
 public:
  explicit Subscriber(std::uint16_t port) {
    mosquitto_lib_init();
    client_ = mosquitto_new(nullptr, true, this);
    mosquitto_message_callback_set(client_, [](mosquitto*, void* self, const mosquitto_message* m) {
      static_cast<Subscriber*>(self)->on_message(m);
    });
    mosquitto_connect_callback_set(client_, [](mosquitto* c, void*, int) {
      // FG_BENCH_SUB_QOS: the readings' subscription QoS (default 0), to see what the broker's side costs.
      mosquitto_subscribe(c, nullptr, "fg/bench/+/v", std::atoi(env_or("FG_BENCH_SUB_QOS", "0").c_str()));
      mosquitto_subscribe(c, nullptr, "fg/bench/status", 1);
    });
    mosquitto_connect(client_, "127.0.0.1", port, 60);
    mosquitto_loop_start(client_);
  }
  ~Subscriber() {
    mosquitto_disconnect(client_);
    mosquitto_loop_stop(client_, false);
    mosquitto_destroy(client_);
    mosquitto_lib_cleanup();
  }

  void record_latency(bool on) { recording_ = on; }
  std::uint64_t count() const { return count_; }
  bool online() const { return online_; }
  std::vector<double> take_latencies_us() {
    std::lock_guard lock(mutex_);
    return std::exchange(latencies_us_, {});
  }

 private:
  void on_message(const mosquitto_message* m) {
    std::int64_t now = monotonic_ns();
    std::string_view topic(m->topic);
    std::string_view payload(static_cast<const char*>(m->payload), static_cast<size_t>(m->payloadlen));
    if (topic == "fg/bench/status") {
      online_ = payload == "online";
      return;
    }
    count_.fetch_add(1, std::memory_order_relaxed);
    if (recording_) {
      // {"value":123456789,"time":...}: the value is the writer's CLOCK_MONOTONIC in ns.
      auto start = payload.find(':') + 1;
      double sent =
          std::strtod(std::string(payload.substr(start, payload.find(',') - start)).c_str(), nullptr);
      std::lock_guard lock(mutex_);
      latencies_us_.push_back(static_cast<double>(now - static_cast<std::int64_t>(sent)) / 1000.0);
    }
  }

  mosquitto* client_ = nullptr;
  std::atomic<std::uint64_t> count_{0};
  std::atomic<bool> recording_{false};
  std::atomic<bool> online_{false};
  std::mutex mutex_;
  std::vector<double> latencies_us_;
};

// Writes the whole line to a non-blocking pty master, waiting for room when the pty is full.
inline void write_all(int fd, const char* data, size_t len) {
  while (len > 0) {
    ssize_t n = ::write(fd, data, len);
    if (n > 0) {
      data += n;
      len -= static_cast<size_t>(n);
    } else {
      pollfd p{fd, POLLOUT, 0};
      ::poll(&p, 1, 100);
    }
  }
}

inline double percentile(std::vector<double>& v, double p) {
  if (v.empty()) {
    return 0;
  }
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p / 100.0 * static_cast<double>(v.size())))];
}

template <typename Condition>
inline bool wait_until(Condition done, std::chrono::milliseconds limit) {
  auto deadline = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

}  // namespace fg::bench
