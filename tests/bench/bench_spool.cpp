// Benchmark of the disk spool (issue 12): the real fieldgate, a real mosquitto with its default settings
// (no set_tcp_nodelay), readings at QoS 1, the state directory on the machine's disk.
//
//   build/release/tests/bench/bench_spool [--latency-seconds 90] [--outage-seconds 60] [--dir /var/tmp]
//
// It prints, each from a fresh gateway and state directory:
// - readings/s the spool takes with the broker absent (everything is spooled) at spool_sync "1s" and
//   "0s", and the bytes written to the disk per reading (/proc/PID/io write_bytes) and syncs per second;
// - readings/s through the spool with the broker present (the highest rate at which every reading
//   arrives; 8 ports writing as fast as their ptys take);
// - latency p50 / p99 / p99.9 at 1,000 readings/s with the spool on and off, QoS 1, broker defaults;
// - how long a backlog of an outage at 1,000 readings/s takes to drain (the gateway's own log line);
// - RSS during and after 10 s of 60,000 lines/s offered.
//
// Environment knobs, for experiments beside the defaults: FG_BENCH_QOS (the gateway's [mqtt] qos, default
// 1), FG_BENCH_SUB_QOS (the readings' subscription, default 0), FG_BENCH_EXTRA_SUBSCRIBERS, FG_BENCH_RATE
// and FG_BENCH_LATENCY_DIR (the latency runs), FG_BENCH_FIELDGATE and FG_BENCH_WRAP (see Rig::start).

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/bench/bench_support.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/mosquitto_broker.hpp"
#include "tests/support/pty_device.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using namespace std::chrono_literals;
using namespace fg::bench;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kPorts = 8;

// A value of /proc/PID/io ("write_bytes: "), as a number.
long long proc_io(pid_t pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/io");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) {
      return std::stoll(line.substr(key.size()));
    }
  }
  return -1;
}

// One gateway with its own state directory, ports and control socket.
struct Rig {
  fg::test::TempDir dir;
  std::vector<std::unique_ptr<fg::test::PtyDevice>> devices;
  fg::test::ChildProcess gateway;

  bool start(std::uint16_t port, const std::string& mqtt_extra) {
    // FG_BENCH_WRAP: words put before the gateway's command line, e.g. to trace its syscalls:
    // FG_BENCH_WRAP="strace -f --seccomp-bpf -T -e trace=fdatasync -o /tmp/fdatasync.txt".
    std::vector<std::string> argv;
    if (const char* wrap = std::getenv("FG_BENCH_WRAP")) {
      std::istringstream words(wrap);
      for (std::string w; words >> w;) {
        argv.push_back(w);
      }
    }
    // FG_BENCH_FIELDGATE: another fieldgate binary to measure (a build of another commit, for A/B runs).
    const char* binary = std::getenv("FG_BENCH_FIELDGATE");
    argv.insert(argv.end(), {binary != nullptr ? binary : FIELDGATE_BINARY, "run", "--config",
                             (dir / "bench.toml").string()});
    std::string config = "[gateway]\nid = \"bench\"\nlog_level = \"notice\"\nstate_dir = \"" +
                         (dir / "state").string() + "\"\n[control]\nsocket = \"" +
                         (dir / "control.sock").string() +
                         "\"\n[mqtt]\nhost = \"127.0.0.1\"\nport = " + std::to_string(port) +
                         "\nprefix = \"fg\"\nqos = " + env_or("FG_BENCH_QOS", "1") +
                         "\nreconnect_min = \"100ms\"\nreconnect_max = \"200ms\"\n" + mqtt_extra + "\n";
    for (std::size_t i = 0; i < kPorts; ++i) {
      devices.push_back(std::make_unique<fg::test::PtyDevice>(dir / ("dev" + std::to_string(i))));
      config += "[[serial]]\nname = \"d" + std::to_string(i) + "\"\npath = \"" +
                devices.back()->path().string() + "\"\nbaud = 115200\nparser = \"kv\"\n";
    }
    std::ofstream(dir / "bench.toml") << config;
    if (!gateway.spawn(argv, dir / "gateway.log")) {
      return false;
    }
    return wait_until([&] { return log().find("serving") != std::string::npos; }, 10s);
  }
  std::string log() const {
    std::ifstream in(dir / "gateway.log");
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  // The spool's depth from `fieldgate status --json` (-1 if it cannot be read).
  long long depth() {
    std::string cmd = std::string(FIELDGATE_BINARY) + " status --json -s " + (dir / "control.sock").string();
    std::unique_ptr<FILE, int (*)(FILE*)> p(::popen(cmd.c_str(), "r"), ::pclose);
    std::string out;
    char buf[4096];
    while (p && std::fgets(buf, sizeof buf, p.get()) != nullptr) {
      out += buf;
    }
    std::smatch m;
    return std::regex_search(out, m, std::regex("\"depth\": (\\d+)")) ? std::stoll(m[1]) : -1;
  }
};

// Writes "v=N" lines as fast as the ptys take them on `ports` ports for `duration`; returns lines written.
std::uint64_t flood(Rig& rig, std::size_t ports, std::chrono::milliseconds duration) {
  std::atomic<std::uint64_t> sent{0};
  const auto start = Clock::now();
  std::vector<std::thread> writers;
  for (std::size_t i = 0; i < ports; ++i) {
    writers.emplace_back([&, fd = rig.devices[i]->master_fd()] {
      char batch[4096];
      std::uint64_t n = 0;
      while (Clock::now() - start < duration) {
        std::size_t len = 0;
        int lines = 0;
        while (len + 32 < sizeof batch) {
          len += static_cast<std::size_t>(
              std::snprintf(batch + len, sizeof batch - len, "v=%" PRIu64 "\n", ++n));
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
  return sent;
}

// Writes lines carrying CLOCK_MONOTONIC on port 0 at `per_second` for `duration`.
void paced(Rig& rig, int per_second, std::chrono::milliseconds duration) {
  const auto period = std::chrono::nanoseconds(1'000'000'000 / per_second);
  auto next = Clock::now();
  const auto end = next + duration;
  while (Clock::now() < end) {
    char line[64];
    int len = std::snprintf(line, sizeof line, "v=%" PRId64 "\n", monotonic_ns());
    write_all(rig.devices[0]->master_fd(), line, static_cast<std::size_t>(len));
    next += period;
    std::this_thread::sleep_until(next);
  }
}

void spooling_rate(fg::test::MosquittoBroker& broker, const char* sync) {
  broker.stop();
  Rig rig;
  // spool_max far above what 5 s of flooding writes: the rate is of readings kept, none dropped for room.
  if (!rig.start(broker.port(), std::string("spool_sync = \"") + sync + "\"\nspool_max = \"4GiB\"\n")) {
    std::printf("cannot start fieldgate\n");
    return;
  }
  const pid_t pid = rig.gateway.pid();
  const long long written_before = proc_io(pid, "write_bytes: ");
  const long long wchar_before = proc_io(pid, "wchar: ");
  const auto start = Clock::now();
  const std::uint64_t sent = flood(rig, kPorts, 5s);
  long long depth = 0;
  // Everything written is read and spooled once the depth stops growing.
  for (long long last = -2; depth != last;) {
    last = depth;
    std::this_thread::sleep_for(300ms);
    depth = rig.depth();
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count() - 0.3;
  std::this_thread::sleep_for(1500ms);  // the last group commit
  const long long written = proc_io(pid, "write_bytes: ") - written_before;
  const long long wchar = proc_io(pid, "wchar: ") - wchar_before;
  // write_bytes counts a page each time a clean page of the page cache is dirtied: the bytes the process
  // makes the kernel write to the disk. wchar counts the bytes the process passed to write() (its own
  // appends, and its log and control socket).
  std::printf("broker absent, spool_sync \"%s\": %.0f readings/s spooled (%lld in %.1f s of %" PRIu64
              " sent), per reading %.0f bytes written to disk (%.0f passed to write())\n",
              sync, static_cast<double>(depth) / seconds, depth, seconds, sent,
              static_cast<double>(written) / static_cast<double>(std::max(depth, 1LL)),
              static_cast<double>(wchar) / static_cast<double>(std::max(depth, 1LL)));
  rig.gateway.terminate();
  broker.start();
}

// `label` names the configuration `mqtt_extra` gives ("spool on", "spool off", ...).
void latency(fg::test::MosquittoBroker& broker, const char* label, const std::string& mqtt_extra,
             int seconds) {
  Rig rig;
  Subscriber sub(broker.port());
  // FG_BENCH_EXTRA_SUBSCRIBERS: more subscribers to the same readings, as a site with a dashboard beside
  // Home Assistant has; with a default broker they change how it sends to each (docs/benchmarks.md).
  std::vector<std::unique_ptr<Subscriber>> others;
  for (int i = std::atoi(env_or("FG_BENCH_EXTRA_SUBSCRIBERS", "0").c_str()); i > 0; --i) {
    others.push_back(std::make_unique<Subscriber>(broker.port()));
  }
  const auto all_online = [&] {
    return sub.online() && std::all_of(others.begin(), others.end(), [](auto& o) { return o->online(); });
  };
  if (!rig.start(broker.port(), mqtt_extra) || !wait_until(all_online, 10s)) {
    std::printf("cannot start fieldgate\n");
    return;
  }
  std::this_thread::sleep_for(500ms);
  const pid_t pid = rig.gateway.pid();
  const long long written_before = proc_io(pid, "write_bytes: ");
  // FG_BENCH_RATE: readings a second (default 1,000), to see how the broker's batching depends on it.
  const int rate = std::max(1, std::atoi(env_or("FG_BENCH_RATE", "1000").c_str()));
  sub.record_latency(true);
  paced(rig, rate, std::chrono::seconds(seconds));
  std::this_thread::sleep_for(500ms);
  sub.record_latency(false);
  auto l = sub.take_latencies_us();
  // FG_BENCH_LATENCY_DIR: each run's latencies in arrival order (about one a millisecond), one per line,
  // in <dir>/<label>.txt: to see whether the slow ones come in bursts, periodically or alone.
  if (const char* dump = std::getenv("FG_BENCH_LATENCY_DIR")) {
    std::ofstream out(std::string(dump) + "/" + label + ".txt");
    for (double us : l) {
      out << us << '\n';
    }
  }
  // "Steady": the p99 of the worst 10 s (in the order the readings arrived) beside the whole run's.
  double worst_window_p99 = 0;
  const auto window_size = static_cast<std::size_t>(rate) * 10;
  for (std::size_t from = 0; from < l.size(); from += window_size) {
    std::vector<double> window(
        l.begin() + static_cast<std::ptrdiff_t>(from),
        l.begin() + static_cast<std::ptrdiff_t>(std::min(l.size(), from + window_size)));
    worst_window_p99 = std::max(worst_window_p99, percentile(window, 99));
  }
  std::this_thread::sleep_for(1500ms);
  const long long written = proc_io(pid, "write_bytes: ") - written_before;
  const auto over_1ms = std::count_if(l.begin(), l.end(), [](double us) { return us > 1000; });
  std::printf(
      "QoS %s (subscriber QoS %s, %zu other subscribers) at %d readings/s for %d s, %s: %zu of %d "
      "received, p50 %.0f us, p99 %.0f us (worst 10 s: %.0f us), p99.9 %.0f us, max %.0f us, %ld over "
      "1 ms; %.0f bytes written to disk per reading\n",
      env_or("FG_BENCH_QOS", "1").c_str(), env_or("FG_BENCH_SUB_QOS", "0").c_str(), others.size(), rate,
      seconds, label, l.size(), seconds * rate, percentile(l, 50), percentile(l, 99), worst_window_p99,
      percentile(l, 99.9), percentile(l, 100), static_cast<long>(over_1ms),
      static_cast<double>(written) / static_cast<double>(std::max<std::size_t>(l.size(), 1)));
  rig.gateway.terminate();
}

void present_rate(fg::test::MosquittoBroker& broker) {
  Rig rig;
  Subscriber sub(broker.port());
  if (!rig.start(broker.port(), "") || !wait_until([&] { return sub.online(); }, 10s)) {
    std::printf("cannot start fieldgate\n");
    return;
  }
  std::this_thread::sleep_for(500ms);
  // What bounds the rate: the CPU each process used meanwhile (a process at 100 % of a core is the bound).
  const pid_t gateway = rig.gateway.pid();
  const double cpu_before[] = {cpu_seconds(gateway), cpu_seconds(broker.pid()), cpu_seconds(::getpid())};
  const auto start = Clock::now();
  const std::uint64_t before = sub.count();
  const std::uint64_t sent = flood(rig, kPorts, 5s);
  wait_until([&] { return sub.count() - before >= sent; }, 60s);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const double received = static_cast<double>(sub.count() - before);
  const double used[] = {cpu_seconds(gateway) - cpu_before[0], cpu_seconds(broker.pid()) - cpu_before[1],
                         cpu_seconds(::getpid()) - cpu_before[2]};
  // The share of a core says which process is the bound; CPU time per reading is what each costs
  // (steadier than rates on a loaded machine).
  std::printf(
      "broker present, spool on: %.0f readings/s delivered (%" PRIu64 " sent, %" PRIu64
      " received in %.1f s); CPU meanwhile (%% of one core / us per reading): gateway %.0f %% / %.1f, "
      "mosquitto %.0f %% / %.1f, this bench (writers and subscriber) %.0f %% / %.1f\n",
      received / seconds, sent, sub.count() - before, seconds, 100 * used[0] / seconds,
      1e6 * used[0] / received, 100 * used[1] / seconds, 1e6 * used[1] / received, 100 * used[2] / seconds,
      1e6 * used[2] / received);
  rig.gateway.terminate();
}

void drain(fg::test::MosquittoBroker& broker, int outage_seconds) {
  Rig rig;
  if (!rig.start(broker.port(), "")) {
    std::printf("cannot start fieldgate\n");
    return;
  }
  std::this_thread::sleep_for(500ms);
  broker.stop();
  paced(rig, 1000, std::chrono::seconds(outage_seconds));
  const long long depth = rig.depth();
  broker.start();
  std::smatch m;
  wait_until([&] { return rig.log().find("spool: drained in") != std::string::npos; }, 120s);
  std::string log = rig.log();
  if (std::regex_search(log, m, std::regex("spool: drained in (\\d+) ms"))) {
    const double ms = std::stod(m[1]);
    std::printf("drain after %d s of outage at 1000 readings/s: %lld messages in %.0f ms = %.0f messages/s\n",
                outage_seconds, depth, ms, static_cast<double>(depth) * 1000.0 / ms);
  } else {
    std::printf("drain after %d s of outage: not drained within 120 s\n", outage_seconds);
  }
  rig.gateway.terminate();
}

void overload_memory(fg::test::MosquittoBroker& broker) {
  Rig rig;
  Subscriber sub(broker.port());
  if (!rig.start(broker.port(), "") || !wait_until([&] { return sub.online(); }, 10s)) {
    std::printf("cannot start fieldgate\n");
    return;
  }
  const pid_t pid = rig.gateway.pid();
  std::this_thread::sleep_for(500ms);
  const long rss_before = proc_status(pid, "VmRSS:");
  std::atomic<bool> done{false};
  long rss_max = 0;
  std::thread sampler([&] {
    while (!done) {
      rss_max = std::max(rss_max, proc_status(pid, "VmRSS:"));
      std::this_thread::sleep_for(50ms);
    }
  });
  // 60,000 lines/s offered: 8 ports of 7,500 lines/s each, paced in batches of 75 every 10 ms.
  std::vector<std::thread> writers;
  std::atomic<std::uint64_t> sent{0};
  for (std::size_t i = 0; i < kPorts; ++i) {
    writers.emplace_back([&, fd = rig.devices[i]->master_fd()] {
      auto next = Clock::now();
      const auto end = next + 10s;
      std::uint64_t n = 0;
      while (Clock::now() < end) {
        char batch[2048];
        std::size_t len = 0;
        for (int k = 0; k < 75; ++k) {
          len += static_cast<std::size_t>(
              std::snprintf(batch + len, sizeof batch - len, "v=%" PRIu64 "\n", ++n));
        }
        write_all(fd, batch, len);
        sent += 75;
        next += 10ms;
        std::this_thread::sleep_until(next);
      }
    });
  }
  for (auto& w : writers) {
    w.join();
  }
  wait_until([&] { return sub.count() >= sent; }, 60s);
  done = true;
  sampler.join();
  std::this_thread::sleep_for(2s);
  std::printf("60000 lines/s offered for 10 s at QoS %s: %" PRIu64 " of %" PRIu64
              " delivered; RSS before %.2f MiB, at most %.2f MiB during, %.2f MiB after\n",
              env_or("FG_BENCH_QOS", "1").c_str(), static_cast<std::uint64_t>(sub.count()),
              static_cast<std::uint64_t>(sent), rss_before / 1024.0, rss_max / 1024.0,
              proc_status(pid, "VmRSS:") / 1024.0);
  rig.gateway.terminate();
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // each result as it comes, also into a file
  int latency_seconds = 10;
  int outage_seconds = 60;
  bool tuned = false;
  std::string only;  // comma-separated parts to run; empty: all
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--latency-seconds") == 0 && i + 1 < argc) {
      latency_seconds = std::atoi(argv[++i]);
    } else if (std::strcmp(argv[i], "--outage-seconds") == 0 && i + 1 < argc) {
      outage_seconds = std::atoi(argv[++i]);
    } else if (std::strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
      only = std::string(",") + argv[++i] + ",";
    } else if (std::strcmp(argv[i], "--tuned") == 0) {
      tuned = true;
    } else {
      std::fprintf(stderr,
                   "usage: bench_spool [--latency-seconds N] [--outage-seconds N] [--tuned]\n"
                   "                   [--only spooling,present,latency,latency-sync,drain,overload]\n");
      return 2;
    }
  }
  auto part = [&](const char* name) {
    return only.empty() || only.find(std::string(",") + name + ",") != std::string::npos;
  };
  // The broker's defaults, as users run it; --tuned: with set_tcp_nodelay (the tuned rig of
  // bench_gateway_e2e).
  fg::test::MosquittoBroker broker(tuned ? std::vector<std::string>{"set_tcp_nodelay true"}
                                         : std::vector<std::string>{});
  if (!broker.start()) {
    std::fprintf(stderr, "cannot start mosquitto\n");
    return 1;
  }
  std::printf("rig: QoS %s, mosquitto %s, %zu ports, state directory on %s\n",
              env_or("FG_BENCH_QOS", "1").c_str(), tuned ? "with set_tcp_nodelay true" : "with its defaults",
              kPorts, fg::test::TempDir().path().c_str());
  if (part("spooling")) {
    spooling_rate(broker, "1s");
    spooling_rate(broker, "0s");
  }
  if (part("present")) {
    present_rate(broker);
  }
  if (part("latency")) {
    latency(broker, "spool on", "", latency_seconds);
    latency(broker, "spool off", "spool = false\n", latency_seconds);
  }
  if (part("latency-sync")) {
    // The group commit's share of the latency: no fdatasync during the run, and one before each publish.
    latency(broker, "spool on, spool_sync \"10min\"", "spool_sync = \"10min\"\n", latency_seconds);
    latency(broker, "spool on, spool_sync \"0s\"", "spool_sync = \"0s\"\n", latency_seconds);
  }
  if (part("drain")) {
    drain(broker, outage_seconds);
  }
  if (part("overload")) {
    overload_memory(broker);
  }
  return 0;
}
