// End-to-end benchmark of the gateway (issue 3): a real mosquitto on loopback, 8 simulated devices on pty
// pairs, the `fieldgate` binary as its own process, and a subscriber (libmosquitto, its own thread).
//
//   build/release/tests/bench/bench_gateway_e2e [--idle-seconds 30] [--latency-seconds 10]
//
// It prints:
// - RSS of fieldgate with 8 ports configured and the broker connected (goal < 6 MiB);
// - wake-ups per second when idle: voluntary context switches of fieldgate over the idle period (goal <= 2);
// - latency from the pty write to the subscriber's receipt at 1,000 readings/s, p50 / p99 / p99.9
//   (goal p99 < 1 ms): each line carries CLOCK_MONOTONIC at its write, the subscriber subtracts;
// - the highest sustained rate with 1 and with 8 ports (goal >= 50,000/s): writers push as fast as the
//   ptys take, and the rate is what reaches the subscriber, which must be everything that was written;
// - fieldgate's CPU time per 1,000 readings during those runs.
// Readings go out with QoS 0 here (the broker's and the subscriber's cost per message is then the
// smallest, so what is measured is the gateway); docs/benchmarks.md has the numbers and the QoS 1 run.

#include <mosquitto.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/bench/bench_support.hpp"
#include "tests/support/mosquitto_broker.hpp"
#include "tests/support/pty_device.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using namespace fg::bench;

// A value of /proc/PID/smaps_rollup ("Pss:"), in kB.
long proc_smaps_rollup(pid_t pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/smaps_rollup");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) {
      return std::stol(line.substr(key.size()));
    }
  }
  return -1;
}

struct RateResult {
  std::uint64_t sent = 0;
  std::uint64_t received = 0;
  double seconds = 0;
  double cpu_per_1000_ms = 0;
  double gateway_cpu_share = 0;  // of one core, over the run
  double broker_cpu_share = 0;
};

// Every writer pushes lines as fast as its pty takes them for `duration`; the rate counts only what
// reached the subscriber, and the run waits for the last reading to arrive.
RateResult max_rate(std::vector<std::unique_ptr<fg::test::PtyDevice>>& devices, size_t ports, Subscriber& sub,
                    pid_t gateway, pid_t broker, std::chrono::seconds duration) {
  std::uint64_t before = sub.count();
  double cpu_before = cpu_seconds(gateway);
  double broker_before = cpu_seconds(broker);
  std::atomic<std::uint64_t> sent{0};
  auto start = Clock::now();
  std::vector<std::thread> writers;
  for (size_t i = 0; i < ports; ++i) {
    writers.emplace_back([&, fd = devices[i]->master_fd()] {
      char batch[4096];
      std::uint64_t n = 0;
      while (Clock::now() - start < duration) {
        size_t len = 0;
        int lines = 0;
        while (len + 32 < sizeof batch) {
          len += static_cast<size_t>(std::snprintf(batch + len, sizeof batch - len, "v=%" PRIu64 "\n", ++n));
          ++lines;
        }
        write_all(fd, batch, len);
        sent += static_cast<std::uint64_t>(lines);
      }
    });
  }
  for (auto& w : writers) {
    w.join();
  }
  wait_until([&] { return sub.count() - before >= sent; }, 20s);
  RateResult r;
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  r.sent = sent;
  r.received = sub.count() - before;
  double gateway_cpu = cpu_seconds(gateway) - cpu_before;
  r.cpu_per_1000_ms = gateway_cpu * 1000.0 / (static_cast<double>(r.received) / 1000.0);
  r.gateway_cpu_share = gateway_cpu / r.seconds;
  r.broker_cpu_share = (cpu_seconds(broker) - broker_before) / r.seconds;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  int idle_seconds = 30;
  int latency_seconds = 10;
  // The tuned rig by default (QoS 0, a broker with TCP_NODELAY and no queue limit); `--user-defaults`
  // measures what a user gets out of the box: QoS 1 (the gateway's default) and a broker with its
  // default settings.
  bool user_defaults = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--user-defaults") == 0) {
      user_defaults = true;
    } else if (i + 1 < argc && std::strcmp(argv[i], "--idle-seconds") == 0) {
      idle_seconds = std::atoi(argv[++i]);
    } else if (i + 1 < argc && std::strcmp(argv[i], "--latency-seconds") == 0) {
      latency_seconds = std::atoi(argv[++i]);
    }
  }
  std::printf("rig: %s\n", user_defaults ? "user defaults (QoS 1, broker defaults)"
                                          : "tuned (QoS 0, broker with set_tcp_nodelay, no queue limit)");
  constexpr size_t kPorts = 8;
  fg::test::TempDir dir;
  fg::test::MosquittoBroker broker(user_defaults ? std::vector<std::string>{}
                                                 : std::vector<std::string>{"max_queued_messages 0",
                                                                            "set_tcp_nodelay true"});
  if (!broker.start()) {
    std::fprintf(stderr, "cannot start mosquitto\n");
    return 1;
  }
  std::vector<std::unique_ptr<fg::test::PtyDevice>> devices;
  std::string config =
      "[gateway]\nid = \"bench\"\nlog_level = \"warning\"\nstate_dir = \"" + (dir / "state").string() +
      "\"\n[mqtt]\nhost = \"127.0.0.1\"\nport = " +
      std::to_string(broker.port()) + "\nprefix = \"fg\"\nqos = " + (user_defaults ? "1" : "0") + "\n";
  for (size_t i = 0; i < kPorts; ++i) {
    devices.push_back(std::make_unique<fg::test::PtyDevice>(dir / ("dev" + std::to_string(i))));
    config += "[[serial]]\nname = \"d" + std::to_string(i) + "\"\npath = \"" +
              devices.back()->path().string() + "\"\nbaud = 115200\nparser = \"kv\"\n";
  }
  std::ofstream(dir / "bench.toml") << config;

  Subscriber sub(broker.port());
  fg::test::ChildProcess gateway;
  if (!gateway.spawn({FIELDGATE_BINARY, "run", "--config", (dir / "bench.toml").string()},
                     dir / "gateway.log")) {
    std::fprintf(stderr, "cannot start fieldgate\n");
    return 1;
  }
  if (!wait_until([&] { return sub.online(); }, 10s)) {
    std::fprintf(stderr, "fieldgate did not come online\n");
    return 1;
  }
  for (auto& d : devices) {
    d->release_slave();
  }
  std::this_thread::sleep_for(1s);
  pid_t pid = gateway.pid();
  // RSS counts every resident page of the shared libraries too (libc, libstdc++, OpenSSL under
  // libmosquitto), which other processes share; PSS divides those among their users, and the anonymous
  // part is the gateway's own memory.
  std::printf(
      "fieldgate memory with %zu ports, broker connected: RSS %.2f MiB, PSS %.2f MiB, anonymous %.2f MiB\n",
      kPorts, static_cast<double>(proc_status(pid, "VmRSS:")) / 1024.0,
      static_cast<double>(proc_smaps_rollup(pid, "Pss:")) / 1024.0,
      static_cast<double>(proc_status(pid, "RssAnon:")) / 1024.0);

  long switches_before = proc_status(pid, "voluntary_ctxt_switches:");
  std::this_thread::sleep_for(std::chrono::seconds(idle_seconds));
  long switches = proc_status(pid, "voluntary_ctxt_switches:") - switches_before;
  std::printf("idle wake-ups: %ld voluntary context switches in %d s = %.2f /s\n", switches, idle_seconds,
              static_cast<double>(switches) / idle_seconds);

  sub.record_latency(true);
  int lines = latency_seconds * 1000;
  auto next = Clock::now();
  for (int i = 0; i < lines; ++i) {
    char line[64];
    int len = std::snprintf(line, sizeof line, "v=%" PRId64 "\n", monotonic_ns());
    write_all(devices[0]->master_fd(), line, static_cast<size_t>(len));
    next += 1ms;
    std::this_thread::sleep_until(next);
  }
  std::this_thread::sleep_for(200ms);  // the last readings are still on their way
  sub.record_latency(false);
  auto latencies = sub.take_latencies_us();
  std::printf(
      "latency at 1000 readings/s over %d s (%zu of %d received): p50 %.0f us, p99 %.0f us, p99.9 %.0f us\n",
      latency_seconds, latencies.size(), lines, percentile(latencies, 50), percentile(latencies, 99),
      percentile(latencies, 99.9));

  for (size_t ports : {size_t{1}, kPorts}) {
    auto r = max_rate(devices, ports, sub, pid, broker.pid(), 5s);
    std::printf(
        "max rate with %zu port(s): %.0f readings/s (%" PRIu64 " sent, %" PRIu64
        " received), fieldgate CPU %.3f ms per 1000 readings; CPU use: fieldgate %.0f%%, mosquitto %.0f%% "
        "of one core\n",
        ports, static_cast<double>(r.received) / r.seconds, r.sent, r.received, r.cpu_per_1000_ms,
        100 * r.gateway_cpu_share, 100 * r.broker_cpu_share);
  }
  std::printf("fieldgate RSS after the load: %.2f MiB\n",
              static_cast<double>(proc_status(pid, "VmRSS:")) / 1024.0);
  gateway.terminate();
  return 0;
}
