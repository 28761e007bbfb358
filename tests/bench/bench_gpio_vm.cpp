// GPIO benchmark on a real kernel (issue 11): runs inside the gpio-sim VM (tests/bench/gpio-vm-bench.sh
// boots it), with the fieldgate binary, a mosquitto broker and a subscriber in the guest. Per backend
// (the build's libgpiod, and sysfs) it prints:
// - edge to subscriber latency, p50 / p99 / max: the bench changes a gpio-sim line's pull (one edge) and
//   waits for the reading to reach its subscriber, one edge at a time;
// - the highest edge rate without loss: edges paced at a rate from a ladder for about a second each; a rate
//   passes when the subscriber got one reading per edge with alternating levels, and the ladder stops at
//   the first rate that loses or merges edges. Each rate's line is followed by where its edges went, from
//   the gateway's `fieldgate status --json`: the edges the kernel handed the device, the edges libgpiod v2's
//   sequence numbers say the kernel dropped, the device's readings, and MQTT's published and dropped;
//   The same ladder with "kernel" in place of a backend is the ceiling of the guest itself: this program
//   requests the line through the kernel's uAPI and reads its events in a thread, without fieldgate;
// - a burst of --burst edges made as fast as the bench can (0: none), and how many readings came of it;
// - idle wake-ups per second of a gateway with 8 GPIO inputs beside one with none (voluntary context
//   switches from /proc/PID/status over --idle-seconds, after --idle-settle): watched fds cost no
//   wake-ups. The settle matters: the inputs' first readings leave the spool's checkpoint due (gateway/
//   publish_spool.cpp ticks every second until it writes it, up to 60 s after a reading), which a 2 s
//   settle measures as well; 65 s leaves the fds alone.
// The guest runs on TCG (an emulated CPU): absolute times are indicative only; compare ratios.
//
//   bench_gpio_vm [--backends kernel,gpiod,sysfs] [--edges 200] [--idle-seconds 30] [--idle-settle 2]
//                 [--max-rate 20000] [--burst 201]

#include <fcntl.h>
#include <linux/gpio.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/gpio/sim_chip.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/mosquitto_broker.hpp"
#include "tests/support/mqtt_client.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using fg::test::SimChip;

struct Options {
  std::vector<std::string> backends{"kernel", "gpiod", "sysfs"};
  int edges = 200;
  int idle_seconds = 30;
  int idle_settle = 2;
  int max_rate = 20000;
  int burst = 201;  // odd: the line ends high, so a backend that kept an old level shows it
};

long proc_status(pid_t pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key, 0) == 0) return std::stol(line.substr(key.size()));
  }
  return -1;
}

// CPU time (user + system) a process has used, from /proc/PID/stat.
std::chrono::milliseconds cpu_time(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  std::istringstream fields(text.substr(text.rfind(')') + 2));  // after "pid (comm) "
  std::string field;
  long ticks = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i >= 14) ticks += std::stol(field);  // utime, stime
  }
  return std::chrono::milliseconds(ticks * 1000 / ::sysconf(_SC_CLK_TCK));
}

// Drives one simulated line through its sysfs `pull` attribute, kept open: one pwrite per edge, so the
// pacing measures the gateway rather than open() and close() in the emulated guest.
class PullDriver {
 public:
  PullDriver(const SimChip& chip, unsigned offset)
      : fd_(::open((chip.line_dir(offset) + "/pull").c_str(), O_WRONLY | O_CLOEXEC)) {}
  ~PullDriver() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return fd_ >= 0; }
  bool set(bool up) {
    const char* text = up ? "pull-up" : "pull-down";
    return ::pwrite(fd_, text, std::strlen(text), 0) > 0;
  }

 private:
  int fd_;
};

// The broker, the subscriber and one fieldgate with `inputs` state inputs on a fresh simulated chip.
class Rig {
 public:
  bool start(const std::string& backend, int inputs, std::string* error) {
    if (!broker_.start()) return fail(error, "broker: " + broker_.last_error());
    if (inputs > 0) {
      auto chip = SimChip::create({.num_lines = 8, .label = "fg-bench-" + backend, .line_names = {}, .hogs = {}});
      if (!chip) return fail(error, chip.error());
      chip_.emplace(std::move(*chip));
    }
    std::ostringstream config;
    // A state directory of its own: the spool of an earlier rig's gateway (killed with readings not yet
    // acknowledged) would otherwise send them again to this rig's subscriber, on the same topic.
    config << "[gateway]\nid = \"b\"\nlog_level = \"notice\"\nstate_dir = \"" << (dir_ / "state").string()
           << "\"\n\n[mqtt]\nhost = \"127.0.0.1\"\nport = "
           << broker_.port() << "\nprefix = \"fg\"\n\n[control]\nsocket = \"" << socket() << "\"\n\n";
    for (int i = 0; i < inputs && backend != "kernel"; ++i) {
      config << "[[gpio]]\nname = \"in" << i << "\"\nmode = \"state\"\nchip = \"" << chip_->label()
             << "\"\nbackend = \"" << backend << "\"\nline = " << i << "\n";
    }
    fg::test::write_file(dir_ / "fieldgate.toml", config.str());
    if (!sub_.connect("127.0.0.1", broker_.port()) || !sub_.subscribe("fg/#")) {
      return fail(error, "subscriber could not connect");
    }
    if (!gateway_.spawn({FIELDGATE_BINARY, "run", "--config", (dir_ / "fieldgate.toml").string()},
                        dir_ / "gateway.log", error)) {
      return false;
    }
    for (int i = 0; i < inputs && backend != "kernel"; ++i) {
      if (!sub_.wait_message("fg/b/in" + std::to_string(i) + "/state", std::nullopt, 0, 20s)) {
        return fail(error, "in" + std::to_string(i) + " published no state:\n" + log());
      }
    }
    if ((inputs == 0 || backend == "kernel") && !sub_.wait_message("fg/b/status", "online", 0, 20s)) {
      return fail(error, "fieldgate did not come online:\n" + log());
    }
    return true;
  }

  // Waits until `topic` has had `count` messages since index `from`; returns how many it had.
  std::size_t wait_count(const std::string& topic, std::size_t count, std::chrono::milliseconds timeout) {
    std::size_t seen = 0;
    std::size_t scanned = 0;
    sub_.wait_for(
        [&](const std::vector<fg::test::MqttMessage>& all) {
          for (; scanned < all.size(); ++scanned) seen += all[scanned].topic == topic ? 1 : 0;
          return seen >= count;
        },
        timeout);
    return seen;
  }

  // Where the edges of device `in0` went, from `fieldgate status --json`: one line for the log.
  std::string stages() const {
    const std::string cmd = std::string(FIELDGATE_BINARY) + " status --json --socket " + socket();
    std::unique_ptr<FILE, int (*)(FILE*)> p(::popen(cmd.c_str(), "r"), ::pclose);
    std::string out;
    char buf[4096];
    while (p && std::fgets(buf, sizeof buf, p.get()) != nullptr) out += buf;
    const auto s = nlohmann::json::parse(out, nullptr, false);
    if (s.is_discarded()) return "status unreadable: " + out;
    const auto counter = [&](const std::string& name) -> std::uint64_t {
      for (const auto& d : s["devices"]) {
        if (d["name"] == "in0") return d["counters"].value(name, std::uint64_t{0});
      }
      return 0;
    };
    const auto& m = s["mqtt"];
    return "edges " + std::to_string(counter("edges")) + ", kernel dropped " +
           std::to_string(counter("kernel_dropped_edges")) + ", readings " + std::to_string(counter("readings")) +
           ", mqtt published " + std::to_string(m.value("published", std::uint64_t{0})) + ", dropped " +
           std::to_string(m.value("dropped", std::uint64_t{0})) + ", gateway dropped " +
           std::to_string(s.value("dropped", std::uint64_t{0}));
  }
  std::vector<fg::test::MqttMessage> on_topic(const std::string& topic) const { return sub_.on_topic(topic); }
  SimChip& chip() { return *chip_; }
  pid_t pid() const { return gateway_.pid(); }
  std::string log() const {
    std::ifstream in(dir_ / "gateway.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  std::string socket() const { return (dir_ / "control.sock").string(); }
  static bool fail(std::string* error, const std::string& what) {
    *error = what;
    return false;
  }
  // Destroyed in reverse: the gateway goes first (releases the lines), then the chip, the subscriber and
  // the broker.
  fg::test::TempDir dir_;
  fg::test::MosquittoBroker broker_;
  fg::test::MqttClient sub_;
  std::optional<SimChip> chip_;
  fg::test::ChildProcess gateway_;
};

// Starts `rig`, or says why it could not for the measurement `what`.
bool start(Rig& rig, const std::string& backend, int inputs, const char* what) {
  std::string error;
  if (!rig.start(backend, inputs, &error)) {
    std::printf("%-6s %s: %s\n", backend.c_str(), what, error.c_str());
    return false;
  }
  return true;
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

bool latency(const std::string& backend, const Options& o) {
  Rig rig;
  if (!start(rig, backend, 1, "latency")) return false;
  PullDriver pull(rig.chip(), 0);
  const std::string topic = "fg/b/in0/state";
  std::vector<double> us;
  for (int i = 1; i <= o.edges; ++i) {
    auto t0 = Clock::now();
    pull.set(i % 2 == 1);
    if (rig.wait_count(topic, static_cast<std::size_t>(i) + 1, 5s) < static_cast<std::size_t>(i) + 1) {
      std::printf("%-6s latency: edge %d did not arrive within 5 s\n", backend.c_str(), i);
      return false;
    }
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  std::printf("%-6s edge -> subscriber over %d edges: p50 %.0f us, p99 %.0f us, max %.0f us\n",
              backend.c_str(), o.edges, percentile(us, 0.5), percentile(us, 0.99), percentile(us, 1.0));
  return true;
}

// Edges as the kernel delivers them to a requester of line 0, without fieldgate: the levels of the events
// read while `drive` runs (the v1 uAPI keeps only 16 events per line, so they are read as they come).
std::vector<bool> kernel_events(const SimChip& chip, const std::function<void()>& drive) {
  std::vector<bool> levels;
  int chip_fd = ::open(chip.dev_path().c_str(), O_RDONLY | O_CLOEXEC);
  gpioevent_request request{};
  request.lineoffset = 0;
  request.handleflags = GPIOHANDLE_REQUEST_INPUT;
  request.eventflags = GPIOEVENT_REQUEST_BOTH_EDGES;
  std::strcpy(request.consumer_label, "bench");
  if (chip_fd < 0 || ::ioctl(chip_fd, GPIO_GET_LINEEVENT_IOCTL, &request) != 0) {
    if (chip_fd >= 0) ::close(chip_fd);
    return levels;
  }
  std::atomic<bool> done{false};
  std::thread reader([&] {
    for (;;) {
      pollfd p{request.fd, POLLIN, 0};
      if (::poll(&p, 1, 200) <= 0) {
        if (done) return;  // quiet for 200 ms after the last edge
        continue;
      }
      gpioevent_data event{};
      if (::read(request.fd, &event, sizeof event) == sizeof event) {
        levels.push_back(event.id == GPIOEVENT_EVENT_RISING_EDGE);
      }
    }
  });
  drive();
  done = true;
  reader.join();
  ::close(request.fd);
  ::close(chip_fd);
  return levels;
}

// Runs `drive` and returns the levels that came of it, the level at start (low) first: the events this
// program reads from the kernel ("kernel"), or else in0's readings at the subscriber, with their seq (the
// gateway's) in `seqs`, waiting up to `wait` for `edges` of them.
std::vector<bool> levels_of(Rig& rig, const std::string& backend, int edges, const std::function<void()>& drive,
                            std::chrono::seconds wait, std::vector<std::int64_t>& seqs) {
  std::vector<bool> levels{false};
  if (backend == "kernel") {
    auto events = kernel_events(rig.chip(), drive);
    levels.insert(levels.end(), events.begin(), events.end());
    return levels;
  }
  drive();
  const std::string topic = "fg/b/in0/state";
  rig.wait_count(topic, static_cast<std::size_t>(edges) + 1, wait);
  levels.clear();
  for (const auto& reading : rig.on_topic(topic)) {
    levels.push_back(reading.payload.find("\"value\":true") != std::string::npos);
    seqs.push_back(nlohmann::json::parse(reading.payload, nullptr, false).value("seq", std::int64_t{-1}));
  }
  return levels;
}

bool max_rate(const std::string& backend, const Options& o) {
  int best = 0;
  double best_achieved = 0;
  std::string stop;
  for (int rate : {100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000}) {
    if (rate > o.max_rate) break;
    Rig rig;  // a fresh gateway per rate, so one rate's backlog cannot spill into the next
    if (!start(rig, backend, 1, "rate")) return false;
    PullDriver pull(rig.chip(), 0);
    const int edges = std::max(200, rate);  // about a second's worth
    const auto period = std::chrono::nanoseconds(1'000'000'000 / rate);
    // One level per edge, alternating: the first is the level at start (low), then high, low, ...
    std::vector<std::int64_t> seqs;
    double achieved = 0;
    const auto cpu_before = cpu_time(rig.pid());
    auto drive = [&] {
      auto start = Clock::now();
      for (int i = 1; i <= edges; ++i) {
        std::this_thread::sleep_until(start + period * (i - 1));
        pull.set(i % 2 == 1);
      }
      achieved = edges / std::chrono::duration<double>(Clock::now() - start).count();
    };
    const std::vector<bool> levels = levels_of(rig, backend, edges, drive, 10s, seqs);
    std::size_t got = levels.size();
    bool alternating = got == static_cast<std::size_t>(edges) + 1;
    std::size_t first_wrong = 0;  // the first reading whose level is not the one expected, if any
    while (first_wrong < got && levels[first_wrong] == (first_wrong % 2 == 1)) ++first_wrong;
    alternating = alternating && first_wrong == got;
    // Around the first reading out of step: the levels (0/1) and, from the gateway, each reading's seq,
    // whose gaps would be readings lost between the gateway and the subscriber.
    std::string where;
    if (first_wrong < got) {
      where = ", reading " + std::to_string(first_wrong) + " out of step:";
      const std::size_t from = first_wrong > 4 ? first_wrong - 4 : 0;
      for (std::size_t i = from; i < std::min(got, first_wrong + 5); ++i) {
        where += " " + std::to_string(levels[i]) + (i < seqs.size() ? "#" + std::to_string(seqs[i]) : "");
      }
    }
    std::printf("%-6s   %6d edges/s asked, %8.0f driven: %zu of %d readings%s\n", backend.c_str(), rate,
                achieved, got > 0 ? got - 1 : 0, edges, alternating ? "" : (" (LOST or merged" + where + ")").c_str());
    if (backend != "kernel") {
      std::printf("%-6s            gateway: %s, CPU %lld ms\n", backend.c_str(), rig.stages().c_str(),
                  static_cast<long long>((cpu_time(rig.pid()) - cpu_before).count()));
    }
    if (!alternating) {
      stop = " (" + std::to_string(rate) + "/s lost edges)";
      break;
    }
    best = rate;
    best_achieved = achieved;
  }
  std::printf("%-6s highest edge rate without loss: %d/s asked (%.0f/s driven)%s\n", backend.c_str(), best,
              best_achieved, stop.c_str());
  return true;
}

// A burst: o.burst edges as fast as the bench can change the pull, then the wait for the readings. What is
// lost is what did not fit the kernel's buffer for the request while the gateway caught up (16 events for
// libgpiod v1, fixed; the request's event_buffer_size for v2), counted rather than timed, so it compares
// well across loads.
bool burst(const std::string& backend, const Options& o) {
  Rig rig;
  if (!start(rig, backend, 1, "burst")) return false;
  PullDriver pull(rig.chip(), 0);
  std::vector<std::int64_t> seqs;
  const std::vector<bool> levels = levels_of(
      rig, backend, o.burst, [&] { for (int i = 1; i <= o.burst; ++i) pull.set(i % 2 == 1); }, 20s, seqs);
  std::printf("%-6s burst of %d edges: %zu readings, last level %s\n", backend.c_str(), o.burst,
              levels.empty() ? 0 : levels.size() - 1,
              levels.empty() ? "none" : (levels.back() == (o.burst % 2 == 1) ? "right" : "WRONG"));
  if (backend != "kernel") std::printf("%-6s            gateway: %s\n", backend.c_str(), rig.stages().c_str());
  return true;
}

bool idle(const std::string& backend, int inputs, const Options& o) {
  Rig rig;
  if (!start(rig, backend, inputs, "idle")) return false;
  std::this_thread::sleep_for(std::chrono::seconds(o.idle_settle));  // start-up settles; then measured
  long v0 = proc_status(rig.pid(), "voluntary_ctxt_switches:");
  long n0 = proc_status(rig.pid(), "nonvoluntary_ctxt_switches:");
  std::this_thread::sleep_for(std::chrono::seconds(o.idle_seconds));
  long v1 = proc_status(rig.pid(), "voluntary_ctxt_switches:");
  long n1 = proc_status(rig.pid(), "nonvoluntary_ctxt_switches:");
  std::printf("%-6s idle with %d GPIO inputs: %.2f wake-ups/s (%ld voluntary, %ld involuntary in %d s)\n",
              inputs > 0 ? backend.c_str() : "-", inputs, static_cast<double>(v1 - v0) / o.idle_seconds,
              v1 - v0, n1 - n0, o.idle_seconds);
  return true;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string key = argv[i], value = argv[i + 1];
    if (key == "--edges") {
      o.edges = std::stoi(value);
    } else if (key == "--idle-seconds") {
      o.idle_seconds = std::stoi(value);
    } else if (key == "--idle-settle") {
      o.idle_settle = std::stoi(value);
    } else if (key == "--burst") {
      o.burst = std::stoi(value);
    } else if (key == "--max-rate") {
      o.max_rate = std::stoi(value);
    } else if (key == "--backends") {
      o.backends.clear();
      std::istringstream in(value);
      for (std::string b; std::getline(in, b, ',');) o.backends.push_back(b);
    } else {
      std::fprintf(stderr, "unknown option %s\n", key.c_str());
      std::exit(2);
    }
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  if (!SimChip::available()) {
    std::fprintf(stderr, "%s\n", SimChip::unavailable_reason().c_str());
    return 2;
  }
  SimChip::remove_stale();
  bool ok = true;
  std::printf("== edge to subscriber latency (one edge at a time)\n");
  for (const auto& b : o.backends) ok = (b == "kernel" || latency(b, o)) && ok;
  std::printf("== highest edge rate without loss (state mode, no debounce)\n");
  for (const auto& b : o.backends) ok = max_rate(b, o) && ok;
  if (o.burst > 0) {
    std::printf("== a burst of edges as fast as they can be made\n");
    for (const auto& b : o.backends) ok = burst(b, o) && ok;
  }
  std::printf("== idle wake-ups over %d s, %d s after start\n", o.idle_seconds, o.idle_settle);
  ok = idle("", 0, o) && ok;
  for (const auto& b : o.backends) ok = (b == "kernel" || idle(b, 8, o)) && ok;
  std::fflush(stdout);
  return ok ? 0 : 1;
}
