// GPIO benchmark on a real kernel (issue 11): runs inside the gpio-sim VM (tests/bench/gpio-vm-bench.sh
// boots it), with the fieldgate binary, a mosquitto broker and a subscriber in the guest. Per backend
// (the build's libgpiod, and sysfs) it prints:
// - edge to subscriber latency, p50 / p99 / max: the bench changes a gpio-sim line's pull (one edge) and
//   waits for the reading to reach its subscriber, one edge at a time;
// - the highest edge rate without loss: edges paced at a rate from a ladder for about a second each; a rate
//   passes when the subscriber got one reading per edge with alternating levels, and the ladder stops at
//   the first rate that loses or merges edges;
//   The same ladder with "kernel" in place of a backend is the ceiling of the guest itself: this program
//   requests the line through the kernel's uAPI and reads its events in a thread, without fieldgate;
// - idle wake-ups per second of a gateway with 8 GPIO inputs beside one with none (voluntary context
//   switches from /proc/PID/status over --idle-seconds, after --idle-settle): watched fds cost no
//   wake-ups. The settle matters: the inputs' first readings leave the spool's checkpoint due (gateway/
//   publish_spool.cpp ticks every second until it writes it, up to 60 s after a reading), which a 2 s
//   settle measures as well; 65 s leaves the fds alone.
// The guest runs on TCG (an emulated CPU): absolute times are indicative only; compare ratios.
//
//   bench_gpio_vm [--backends kernel,gpiod,sysfs] [--edges 200] [--idle-seconds 30] [--idle-settle 2]
//                 [--max-rate 20000]

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
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

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
};

long proc_status(pid_t pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key, 0) == 0) return std::stol(line.substr(key.size()));
  }
  return -1;
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
    config << "[gateway]\nid = \"b\"\nlog_level = \"notice\"\n\n[mqtt]\nhost = \"127.0.0.1\"\nport = "
           << broker_.port() << "\nprefix = \"fg\"\n\n";
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

  std::vector<fg::test::MqttMessage> on_topic(const std::string& topic) const { return sub_.on_topic(topic); }
  SimChip& chip() { return *chip_; }
  pid_t pid() const { return gateway_.pid(); }
  std::string log() const {
    std::ifstream in(dir_ / "gateway.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
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

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

bool latency(const std::string& backend, const Options& o) {
  Rig rig;
  std::string error;
  if (!rig.start(backend, 1, &error)) {
    std::printf("%-6s latency: %s\n", backend.c_str(), error.c_str());
    return false;
  }
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

bool max_rate(const std::string& backend, const Options& o) {
  int best = 0;
  double best_achieved = 0;
  std::string stop;
  for (int rate : {100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000}) {
    if (rate > o.max_rate) break;
    Rig rig;  // a fresh gateway per rate, so one rate's backlog cannot spill into the next
    std::string error;
    if (!rig.start(backend, 1, &error)) {
      std::printf("%-6s rate: %s\n", backend.c_str(), error.c_str());
      return false;
    }
    PullDriver pull(rig.chip(), 0);
    const int edges = std::max(200, rate);  // about a second's worth
    const auto period = std::chrono::nanoseconds(1'000'000'000 / rate);
    // One level per edge, alternating: the first is the level at start (low), then high, low, ...
    std::vector<bool> levels{false};
    double achieved = 0;
    auto drive = [&] {
      auto start = Clock::now();
      for (int i = 1; i <= edges; ++i) {
        std::this_thread::sleep_until(start + period * (i - 1));
        pull.set(i % 2 == 1);
      }
      achieved = edges / std::chrono::duration<double>(Clock::now() - start).count();
    };
    if (backend == "kernel") {
      auto events = kernel_events(rig.chip(), drive);
      levels.insert(levels.end(), events.begin(), events.end());
    } else {
      drive();
      const std::string topic = "fg/b/in0/state";
      rig.wait_count(topic, static_cast<std::size_t>(edges) + 1, 10s);
      levels.clear();
      for (const auto& reading : rig.on_topic(topic)) {
        levels.push_back(reading.payload.find("\"value\":true") != std::string::npos);
      }
    }
    std::size_t got = levels.size();
    bool alternating = got == static_cast<std::size_t>(edges) + 1;
    std::size_t first_wrong = 0;  // the first reading whose level is not the one expected, if any
    while (first_wrong < got && levels[first_wrong] == (first_wrong % 2 == 1)) ++first_wrong;
    alternating = alternating && first_wrong == got;
    const std::string where = first_wrong < got ? ", reading " + std::to_string(first_wrong) + " out of step" : "";
    std::printf("%-6s   %6d edges/s asked, %8.0f driven: %zu of %d readings%s\n", backend.c_str(), rate,
                achieved, got > 0 ? got - 1 : 0, edges, alternating ? "" : (" (LOST or merged" + where + ")").c_str());
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

bool idle(const std::string& backend, int inputs, const Options& o) {
  Rig rig;
  std::string error;
  if (!rig.start(backend, inputs, &error)) {
    std::printf("%-6s idle: %s\n", backend.c_str(), error.c_str());
    return false;
  }
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
  std::printf("== idle wake-ups over %d s, %d s after start\n", o.idle_seconds, o.idle_settle);
  ok = idle("", 0, o) && ok;
  for (const auto& b : o.backends) ok = (b == "kernel" || idle(b, 8, o)) && ok;
  std::fflush(stdout);
  return ok ? 0 : 1;
}
