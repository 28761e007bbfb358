// End to end on a real kernel: the fieldgate binary, a mosquitto broker and an MQTT subscriber, all in the
// gpio-sim VM (tests/gpio-vm). A pull change on a simulated input line reaches the subscriber as a reading;
// a command published over MQTT sets a simulated output line; a line busy in another process is reported
// and taken once free; edges the kernel dropped are counted (libgpiod v2). Once per backend: the character
// device through the build's libgpiod (v1 or v2) and the legacy sysfs interface. Skips where gpio-sim is
// absent.

#include <gtest/gtest.h>

#include <csignal>
#include <sstream>
#include <string>
#include <thread>

#include "devices/gpio/line.hpp"
#include "tests/e2e/e2e_support.hpp"
#include "tests/gpio/sim_chip.hpp"

namespace fg::e2e {
namespace {

using test::SimChip;

class GpioE2e : public E2eTest, public ::testing::WithParamInterface<std::string> {
 protected:
  static constexpr unsigned kInput = 3;
  static constexpr unsigned kOutput = 5;

  void SetUp() override {
    if (!SimChip::available()) GTEST_SKIP() << SimChip::unavailable_reason();
    SimChip::remove_stale();
    auto made = SimChip::create({.num_lines = 8,
                                 .label = "fg-e2e-" + GetParam(),
                                 .line_names = {{kInput, "GPIO17"}, {4, "GPIO22"}, {kOutput, "GPIO27"}},
                                 .hogs = {}});
    ASSERT_TRUE(made) << made.error();
    sim_.emplace(std::move(*made));
    E2eTest::SetUp();
  }

  // A [[gpio]] entry on the simulated chip; the sysfs backend addresses lines by offset only.
  std::string gpio_entry(const std::string& name, const std::string& mode, unsigned offset,
                         const std::string& line_name) const {
    const bool sysfs = GetParam() == "sysfs";
    return "[[gpio]]\nname = \"" + name + "\"\nmode = \"" + mode + "\"\nchip = \"" + sim_->label() +
           "\"\nbackend = \"" + GetParam() + "\"\nline = " +
           (sysfs ? std::to_string(offset) : "\"" + line_name + "\"") + "\n";
  }

  // Publishes `payload` on the output's `relay/state/set` and waits until the simulated line reads `level`.
  ::testing::AssertionResult set_reaches(const std::string& payload, int level) {
    if (!sub_->publish(topic("relay/state/set"), payload)) {
      return ::testing::AssertionFailure() << "cannot publish " << payload;
    }
    if (auto reached = sim_->wait_value(kOutput, level, kWait); !reached) {
      return ::testing::AssertionFailure() << payload << ": " << reached.error() << diagnostics();
    }
    return ::testing::AssertionSuccess();
  }

  // [control] with a socket in the test's directory, for status().
  std::string control_section() const { return "\n[control]\nsocket = \"" + socket() + "\"\n"; }
  std::string socket() const { return (dir() / "control.sock").string(); }

  // The gateway's `fieldgate status --json` document; null if it cannot be had.
  Json status() {
    std::filesystem::remove(dir() / "status.out");  // the output file is appended to
    run_to_end({FIELDGATE_BINARY, "status", "--json", "--socket", socket()}, dir() / "status.out",
               dir() / "status.err");
    Json s = Json::parse(read_text(dir() / "status.out"), nullptr, false);
    return s.is_discarded() ? Json() : s;
  }

  // A counter of device `name` in `status`, or -1.
  static long long device_counter(const Json& status, const std::string& name, const std::string& counter) {
    if (status.is_object()) {
      for (const auto& d : status["devices"]) {
        if (d["name"] == name && d["counters"].contains(counter)) return d["counters"][counter].get<long long>();
      }
    }
    return -1;
  }

  // Waits until the log has a line holding every one of `parts`.
  bool log_has_line(const std::vector<std::string>& parts, std::chrono::milliseconds timeout = kWait) {
    for (auto deadline = Clock::now() + timeout; Clock::now() < deadline; std::this_thread::sleep_for(20ms)) {
      std::istringstream in(log());
      for (std::string line; std::getline(in, line);) {
        bool all = true;
        for (const auto& part : parts) all = all && line.find(part) != std::string::npos;
        if (all) return true;
      }
    }
    return false;
  }

  std::optional<SimChip> sim_;
};

TEST_P(GpioE2e, InputEdgesReachTheSubscriberWithValueAndTime) {
  ASSERT_NO_FATAL_FAILURE(start_gateway(config_head() + gpio_entry("door", "state", kInput, "GPIO17"), {"door"}));
  const std::string state = topic("door/state");
  // The level at start, then one reading per edge, in order.
  auto first = wait_readings(state, 1);
  ASSERT_EQ(1u, first.size());
  EXPECT_EQ(false, first[0]["value"]) << first[0].dump();

  ASSERT_TRUE(sim_->set_pull(kInput, SimChip::Pull::up));
  auto rising = wait_readings(state, 2);
  ASSERT_EQ(2u, rising.size()) << diagnostics();
  EXPECT_EQ(true, rising[1]["value"]) << rising[1].dump();
  ASSERT_TRUE(rising[1]["time"].is_string()) << rising[1].dump();
  EXPECT_TRUE(IsRfc3339UtcNow(rising[1]["time"].get<std::string>()));

  ASSERT_TRUE(sim_->set_pull(kInput, SimChip::Pull::down));
  auto falling = wait_readings(state, 3);
  ASSERT_EQ(3u, falling.size()) << diagnostics();
  EXPECT_EQ(false, falling[2]["value"]) << falling[2].dump();
  // Kernel timestamps keep the edges' order in the readings' times (same format, so strings compare).
  EXPECT_LE(rising[1]["time"].get<std::string>(), falling[2]["time"].get<std::string>());
}

TEST_P(GpioE2e, MqttCommandSetsTheOutputLine) {
  ASSERT_NO_FATAL_FAILURE(
      start_gateway(config_head() + gpio_entry("relay", "output", kOutput, "GPIO27"), {"relay"}));
  EXPECT_TRUE(sim_->wait_value(kOutput, 0, kWait)) << "the initial state is off";
  EXPECT_TRUE(set_reaches("on", 1));
  EXPECT_TRUE(set_reaches("off", 0));
  EXPECT_TRUE(set_reaches("toggle", 1));
}

// With the replicated register (a site of one member), an output's desired state is the level a command
// left (issue 11): a toggle is kept as "on" or "off", never as the word "toggle" (a restore would toggle
// again), and a pulse as "off", where it ends. After a SIGKILL and a restart the register restores it.
TEST_P(GpioE2e, AToggleOrAPulseIsKeptAsTheLevelItLeftAndRestoredAfterSigkill) {
  const auto key = dir() / "site.key";
  auto keygen =
      run_to_end({FIELDGATE_BINARY, "keygen", key.string()}, dir() / "keygen.log", dir() / "keygen.log");
  ASSERT_TRUE(keygen && *keygen == 0) << read_text(dir() / "keygen.log");
  const std::string socket = (dir() / "control.sock").string();
  const std::string config =
      config_head() + gpio_entry("relay", "output", kOutput, "GPIO27") + "\n[control]\nsocket = \"" + socket +
      "\"\n\n[replication]\nnode = 1\nlisten = \"127.0.0.1:" + std::to_string(free_udp_port()) +
      "\"\nkey_file = \"" + key.string() + "\"\nstate_dir = \"" + (dir() / "register").string() + "\"\n";
  // The register is written after a command is applied: waits until it holds `level`.
  const auto kept = [&](const std::string& level) {
    std::string got;
    for (auto deadline = Clock::now() + kWait; got != level + "\n" && Clock::now() < deadline;
         std::this_thread::sleep_for(20ms)) {
      std::filesystem::remove(dir() / "get.out");  // the output file is appended to
      run_to_end({FIELDGATE_BINARY, "get", "--socket", socket, std::string(kId) + "/relay/state/desired"},
                 dir() / "get.out", dir() / "get.err");
      got = read_text(dir() / "get.out");
    }
    return got;
  };
  ASSERT_NO_FATAL_FAILURE(start_gateway(config, {"relay"}));
  ASSERT_TRUE(sim_->wait_value(kOutput, 0, kWait)) << "the initial state is off";
  ASSERT_TRUE(set_reaches("on", 1));
  ASSERT_TRUE(set_reaches("toggle", 0));
  ASSERT_EQ(kept("off"), "off\n") << "the toggle's level" << diagnostics();

  ASSERT_TRUE(set_reaches("on", 1));
  ASSERT_EQ(kept("on"), "on\n") << diagnostics();
  ASSERT_TRUE(sub_->publish(topic("relay/state/pulse"), "200ms"));
  ASSERT_EQ(kept("off"), "off\n") << "where the pulse ends" << diagnostics();
  auto ended = sim_->wait_value(kOutput, 0, kWait);
  ASSERT_TRUE(ended) << ended.error() << diagnostics();

  gateway_.kill();  // SIGKILL: no safe state, no clean stop
  const std::size_t mark = log().size();
  ASSERT_NO_FATAL_FAILURE(start_gateway(config, {"relay"}));
  bool restored = false;
  for (auto deadline = Clock::now() + kWait; !restored && Clock::now() < deadline;
       std::this_thread::sleep_for(20ms)) {
    restored = log().find("outputs restored from the register for relay: 1 set", mark) != std::string::npos;
  }
  ASSERT_TRUE(restored) << diagnostics();
  EXPECT_NE(log().find("restored state = off from the register", mark), std::string::npos) << diagnostics();
  auto level = sim_->wait_value(kOutput, 0, kWait);
  EXPECT_TRUE(level) << level.error() << diagnostics();
}

// A line held by another process (gpioset, through the character device) is its device's error alone: the
// device is reported offline with a log line that says another process holds the line, the gateway serves
// its other devices meanwhile, and the device takes the line once the other process lets go, without a
// restart (it is tried again every reopen_interval).
TEST_P(GpioE2e, ALineBusyInAnotherProcessIsItsDevicesAloneAndTakenOnceFreed) {
  constexpr unsigned kOther = 4;
  Process holder;
  std::string error;
  ASSERT_TRUE(holder.spawn({"gpioset", "--mode=signal", sim_->dev_path(), std::to_string(kInput) + "=0"},
                           dir() / "gpioset.log", &error))
      << error;
  bool held = false;  // gpioinfo shows the line used by "gpioset"
  for (auto deadline = Clock::now() + kWait; !held && Clock::now() < deadline; std::this_thread::sleep_for(20ms)) {
    std::filesystem::remove(dir() / "gpioinfo.out");
    run_to_end({"gpioinfo", sim_->dev_path()}, dir() / "gpioinfo.out", dir() / "gpioinfo.out");
    std::istringstream in(read_text(dir() / "gpioinfo.out"));
    for (std::string line; std::getline(in, line);) {
      held = held || (line.find("line   " + std::to_string(kInput) + ":") != std::string::npos &&
                      line.find("\"gpioset\"") != std::string::npos);
    }
  }
  ASSERT_TRUE(held) << "gpioset did not take the line: " << read_text(dir() / "gpioset.log")
                    << read_text(dir() / "gpioinfo.out");

  ASSERT_NO_FATAL_FAILURE(start_gateway(config_head() + gpio_entry("door", "state", kInput, "GPIO17") +
                                            "reopen_interval = \"200ms\"\n" +
                                            gpio_entry("window", "state", kOther, "GPIO22"),
                                        {"window"}));
  EXPECT_TRUE(sub_->wait_message(device_status_topic("door"), "offline")) << diagnostics();
  EXPECT_TRUE(log_has_line({"door: cannot ", "another process holds it"})) << diagnostics();
  // The other device serves meanwhile.
  ASSERT_TRUE(sim_->set_pull(kOther, SimChip::Pull::up));
  auto window = wait_readings(topic("window/state"), 2);
  ASSERT_EQ(2u, window.size()) << diagnostics();
  EXPECT_EQ(true, window[1]["value"]) << window[1].dump();
  EXPECT_TRUE(sub_->on_topic(topic("door/state")).empty()) << diagnostics();

  holder.terminate();  // SIGTERM: gpioset releases the line and exits
  ASSERT_FALSE(holder.running());
  EXPECT_TRUE(sub_->wait_message(device_status_topic("door"), "online")) << diagnostics();
  auto door = wait_readings(topic("door/state"), 1);
  ASSERT_EQ(1u, door.size()) << diagnostics();
  EXPECT_EQ(false, door[0]["value"]) << door[0].dump();
}

// libgpiod v2 numbers each line's edges, so a gap is a count of edges the kernel dropped (its buffer for
// the request was full). The gateway is stopped (SIGSTOP) while more edges come than the kernel keeps for
// it; once it runs again, its status shows the drop for that device and in the gateway's total, and the
// log says that the device is dropping edges.
TEST_P(GpioE2e, EdgesTheKernelDroppedAreCountedAndShownInStatus) {
  if (GetParam() != "gpiod" || devices::gpio::gpiod_api() != 2) {
    GTEST_SKIP() << "only libgpiod v2 numbers the edges (this build: v" << devices::gpio::gpiod_api() << ")";
  }
  constexpr int kEdges = 600;  // more than the kernel keeps for the request (devices/gpio/gpiod_v2_line.cpp)
  ASSERT_NO_FATAL_FAILURE(
      start_gateway(config_head() + gpio_entry("door", "state", kInput, "GPIO17") + control_section(), {"door"}));
  ASSERT_EQ(1u, wait_readings(topic("door/state"), 1).size()) << diagnostics();
  gateway_.signal(SIGSTOP);
  for (int i = 1; i <= kEdges; ++i) {
    ASSERT_TRUE(sim_->set_pull(kInput, i % 2 == 1 ? SimChip::Pull::up : SimChip::Pull::down));
  }
  gateway_.signal(SIGCONT);
  Json s;
  long long edges = 0, dropped = 0;
  for (auto deadline = Clock::now() + kWait; Clock::now() < deadline; std::this_thread::sleep_for(50ms)) {
    s = status();
    edges = device_counter(s, "door", "edges");
    dropped = device_counter(s, "door", "kernel_dropped_edges");
    if (dropped > 0 && edges > 0) break;
  }
  ASSERT_GT(dropped, 0) << s.dump() << diagnostics();
  // What the kernel numbered is what it handed over and what it dropped: at most one per pull change.
  EXPECT_LE(edges + dropped, kEdges) << s.dump();
  EXPECT_GE(s.value("dropped", 0LL), dropped) << s.dump();
  EXPECT_TRUE(log_has_line({"door: dropping kernel dropped edges"}, 2 * kWait)) << diagnostics();
}

INSTANTIATE_TEST_SUITE_P(Backends, GpioE2e, ::testing::Values("gpiod", "sysfs"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace fg::e2e
