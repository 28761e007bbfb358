// bench_firmware_simavr: frames per second from the ATmega328P firmware in simavr, at 115200 baud, through
// the real fieldgate and broker to an MQTT subscriber, in simulated time; and the bytes a frame costs.
//
//   build/dev/tests/firmware/bench_firmware_simavr [SECONDS]     (default 10 s of wall time measured)
//
// The simulation runs unpaced (--fast) and stops its clock whenever the gateway falls behind (the host
// program's flow control), so the numbers are the firmware's and the line's, in the chip's own time,
// whatever this machine's speed. The firmware is told interval=1: it sends readings back to back.

#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <thread>

#include "tests/support/child_process.hpp"
#include "tests/support/mosquitto_broker.hpp"
#include "tests/support/mqtt_client.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct SimStats {
  double t_us = 0;
  double tx_bytes = 0;
  double tx_frames = 0;
};

std::string read_text(const std::filesystem::path& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  std::string out;
  if (f != nullptr) {
    char buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) {
      out.append(buf, n);
    }
    std::fclose(f);
  }
  return out;
}

// Asks the host program for a stats event and returns it once it is in the events file.
SimStats sim_stats(const std::filesystem::path& control, const std::filesystem::path& events) {
  std::size_t before = read_text(events).size();
  int fd = ::open(control.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  (void)!::write(fd, "stats\n", 6);
  ::close(fd);
  static const std::regex form(R"(stats t_us=(\d+) tx_bytes=(\d+) tx_frames=(\d+))");
  for (auto deadline = Clock::now() + 10s; Clock::now() < deadline; std::this_thread::sleep_for(1ms)) {
    std::string text = read_text(events);
    std::smatch m;
    std::string tail = text.substr(std::min(before, text.size()));
    if (std::regex_search(tail, m, form)) {
      return {std::stod(m[1]), std::stod(m[2]), std::stod(m[3])};
    }
  }
  std::fprintf(stderr, "bench: no stats from fieldgate-simavr\n");
  std::exit(1);
}

std::size_t count_on(fg::test::MqttClient& sub, const std::string& topic) {
  return sub.on_topic(topic).size();
}

}  // namespace

int main(int argc, char** argv) {
  const int seconds = argc > 1 ? std::atoi(argv[1]) : 10;
  fg::test::TempDir dir;
  fg::test::MosquittoBroker broker;
  if (!broker.start()) {
    std::fprintf(stderr, "bench: %s\n", broker.last_error().c_str());
    return 1;
  }
  const auto control = dir.path() / "control";
  const auto events = dir.path() / "sim.events";
  const auto link = dir.path() / "node";
  ::mkfifo(control.c_str(), 0600);
  fg::test::ChildProcess sim, gateway;
  sim.spawn({FIELDGATE_SIMAVR_BINARY, "--elf", FIELDGATE_NODE_ELF, "--link", link.string(), "--control",
             control.string(), "--fast"},
            events, dir.path() / "sim.log");
  for (auto deadline = Clock::now() + 10s; !std::filesystem::is_symlink(link) && Clock::now() < deadline;) {
    std::this_thread::sleep_for(5ms);
  }
  fg::test::write_file(
      dir.path() / "fieldgate.toml",
      "[gateway]\nid = \"b1\"\nlog_level = \"warning\"\n[mqtt]\nhost = \"127.0.0.1\"\nport = " +
          std::to_string(broker.port()) + "\nprefix = \"fg\"\n[[serial]]\nname = \"node\"\npath = \"" +
          link.string() +
          "\"\nbaud = 115200\nframing = \"cobs\"\nparser = \"kv\"\n[serial.request]\n"
          "reply_pattern = '^OK'\ntimeout = \"10s\"\n");
  fg::test::MqttClient sub;
  if (!sub.connect("127.0.0.1", broker.port()) || !sub.subscribe("fg/b1/#")) {
    std::fprintf(stderr, "bench: cannot subscribe\n");
    return 1;
  }
  gateway.spawn({FIELDGATE_BINARY, "run", "--config", (dir.path() / "fieldgate.toml").string()},
                dir.path() / "gateway.log");
  if (!sub.wait_message("fg/b1/node/status", "online")) {
    std::fprintf(stderr, "bench: the gateway did not open the node's port\n%s\n",
                 read_text(dir.path() / "gateway.log").c_str());
    return 1;
  }
  sub.publish("fg/b1/node/request", "interval=1");
  sub.wait_message("fg/b1/node/reply");
  std::this_thread::sleep_for(1s);  // past the start, into the steady state

  const std::string topic = "fg/b1/node/n";
  SimStats a = sim_stats(control, events);
  std::size_t published_a = count_on(sub, topic);
  auto wall_a = Clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  SimStats b = sim_stats(control, events);
  std::size_t published_b = count_on(sub, topic);
  double wall_s = std::chrono::duration<double>(Clock::now() - wall_a).count();

  // Stop the readings and let the chain drain, to see that every reading sent was published.
  sub.publish("fg/b1/node/request", "interval=0");
  std::this_thread::sleep_for(2s);
  auto all = sub.on_topic(topic);
  double first = nlohmann::json::parse(all.front().payload).value("value", 0.0);
  double last = nlohmann::json::parse(all.back().payload).value("value", 0.0);
  std::size_t lost = static_cast<std::size_t>(last - first + 1) - all.size();

  double sim_s = (b.t_us - a.t_us) / 1e6;
  double frames = b.tx_frames - a.tx_frames;
  std::string sample = nlohmann::json::parse(all.back().payload).dump();
  std::printf("simulated %.2f s in %.2f s of wall time (%.2fx real time)\n", sim_s, wall_s, sim_s / wall_s);
  std::printf("firmware -> line:      %.0f frames/s (simulated), %.1f bytes on the wire per frame\n",
              frames / sim_s, (b.tx_bytes - a.tx_bytes) / frames);
  std::printf("line -> MQTT readings: %.0f frames/s (simulated)\n",
              static_cast<double>(published_b - published_a) / sim_s);
  std::printf("readings n=%.0f..%.0f: %zu published, %zu lost\n", first, last, all.size(), lost);
  std::printf("last reading: %s\n", sample.c_str());

  gateway.terminate();
  sim.terminate();
  return lost == 0 ? 0 : 1;
}
