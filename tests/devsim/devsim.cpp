// fieldgate-devsim: a simulated text-line sensor on a pty, for the demo, the integration tests and the
// benchmarks.
//
// It creates a pty pair and publishes the device side under --link (as udev publishes
// /dev/serial/by-id/...), emits readings of a slowly drifting temperature and humidity every
// --interval-ms in the chosen --format (kv or json lines), and answers commands:
//   PING -> PONG      READ? -> a reading now      <name>=<value> -> OK <name>=<value>      else -> ERR <line>
// SIGINT / SIGTERM remove the link and end it.
//
// A node speaking our COBS frames is the firmware itself: fieldgate-node (firmware/host), the same core
// as the AVR build.
//
//   fieldgate-devsim --link /tmp/demo/weather --format kv --interval-ms 1000

#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>

#include "loop/loop.hpp"
#include "loop/poll.hpp"
#include "loop/signal_fd.hpp"
#include "loop/timer_fd.hpp"
#include "tests/support/pty_device.hpp"

namespace {

struct Options {
  std::string link;
  std::string format = "kv";
  unsigned interval_ms = 1000;
  unsigned burst = 1;
  unsigned long count = 0;
  std::string name = "devsim";
};

class Simulator {
 public:
  Simulator(Options options, int master) : options_(std::move(options)), master_(master) {}

  std::string reading_line() {
    ++sample_;
    double t = 20.0 + 3.0 * std::sin(static_cast<double>(sample_) / 50.0);
    double h = 45.0 + 10.0 * std::cos(static_cast<double>(sample_) / 70.0);
    char line[128];
    if (options_.format == "json") {
      std::snprintf(line, sizeof line, "{\"t\":%.2f,\"h\":%.1f,\"n\":%lu}", t, h, sample_);
    } else {
      std::snprintf(line, sizeof line, "t=%.2f h=%.1f n=%lu", t, h, sample_);
    }
    return line;
  }

  void emit(const std::string& text) {
    out_ += text;
    out_ += '\n';
  }

  // Writes what is pending; a full pty (nobody reading) drops the rest, as a real UART would.
  void flush() {
    if (!out_.empty()) {
      (void)!::write(master_, out_.data(), out_.size());
      out_.clear();
    }
  }

  bool tick() {
    for (unsigned i = 0; i < options_.burst; ++i) {
      emit(reading_line());
      if (options_.count != 0 && sample_ >= options_.count) {
        flush();
        return false;
      }
    }
    flush();
    return true;
  }

  std::string answer(std::string command) {
    while (!command.empty() && (command.back() == '\r' || command.back() == '\n')) {
      command.pop_back();
    }
    if (command == "PING") {
      return "PONG";
    }
    if (command == "READ?") {
      return reading_line();
    }
    if (auto eq = command.find('='); eq != std::string::npos && eq > 0) {
      return "OK " + command;
    }
    return "ERR " + command;
  }

  void on_input() {
    char buf[512];
    ssize_t n;
    while ((n = ::read(master_, buf, sizeof buf)) > 0) {
      in_.append(buf, static_cast<size_t>(n));
    }
    for (size_t end; (end = in_.find('\n')) != std::string::npos; in_.erase(0, end + 1)) {
      emit(answer(in_.substr(0, end)));
    }
    flush();
  }

  int master() const { return master_; }

 private:
  Options options_;
  int master_;  // the device side of the pty, owned by the PtyDevice
  unsigned long sample_ = 0;
  std::string in_;
  std::string out_;
};

}  // namespace

int main(int argc, char** argv) {
  if (fg::loop::block_signals({SIGINT, SIGTERM})) {
    return 1;
  }
  Options options;
  CLI::App app{"fieldgate-devsim: a simulated serial sensor on a pty"};
  app.add_option("--link", options.link, "Path of the symlink to the device side of the pty")->required();
  app.add_option("--format", options.format, "kv or json (for COBS frames, run fieldgate-node)")
      ->check(CLI::IsMember({"kv", "json"}));
  app.add_option("--interval-ms", options.interval_ms, "Time between bursts of readings");
  app.add_option("--burst", options.burst, "Readings per interval");
  app.add_option("--count", options.count, "Stop after this many readings (0: never)");
  CLI11_PARSE(app, argc, argv);

  // The pty and its link; the slave stays open on our side too, so the pty keeps its settings and the
  // gateway may come and go. The link goes when this ends.
  fg::test::PtyDevice device(options.link);
  if (device.master_fd() < 0) {
    std::fprintf(stderr, "fieldgate-devsim: cannot create a pty\n");
    return 1;
  }

  int status = 0;
  {
    fg::loop::Loop loop;
    Simulator sim(options, device.master_fd());
    auto input = fg::loop::Poll::create(loop, sim.master());
    auto ticker = fg::loop::TimerFd::create(loop, fg::loop::TimerClock::monotonic);
    auto signals = fg::loop::SignalFd::create(loop, {SIGINT, SIGTERM});
    if (!input || !ticker || !signals) {
      std::fprintf(stderr, "fieldgate-devsim: cannot set up the loop\n");
      return 1;
    }
    auto stop = [&] {
      input->close();
      ticker->stop();
      signals->stop();
      loop.stop();
    };
    input->start(fg::loop::PollEvents::readable,
                 [&](std::error_code, fg::loop::PollEvents) { sim.on_input(); });
    ticker->start(std::chrono::milliseconds(options.interval_ms),
                  std::chrono::milliseconds(options.interval_ms), [&](fg::loop::TimerFd::Expiry) {
                    if (!sim.tick()) {
                      stop();
                    }
                  });
    signals->start([&](const signalfd_siginfo&) { stop(); });
    loop.run();
    input = std::unexpected(std::error_code());
    ticker = std::unexpected(std::error_code());
    signals = std::unexpected(std::error_code());
    if (loop.close()) {
      status = 1;
    }
  }
  return status;
}
