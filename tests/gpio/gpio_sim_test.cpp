// GpioDevice on a real kernel: gpio-sim chips (tests/gpio/sim_chip.hpp) driven by the test, for the
// libgpiod backend this build has (v1 or v2: the gpio-sim VM runs both builds) and for sysfs. Edges both
// ways with values and kernel timestamps, debounce, a counter of N pulses, outputs, a pulse that ends on
// time, a busy line reported and retried, and a chip unplugged and plugged back. Runs in the gpio-sim VM
// (tests/gpio-vm); skips where gpio-sim is absent, as on the build machines.

#include <gtest/gtest.h>

#include <functional>

#include "devices/gpio/gpio_device.hpp"
#include "devices/gpio/line.hpp"
#include "tests/devices/gpio_test_util.hpp"
#include "tests/gpio/sim_chip.hpp"
#include "tests/support/loop_fixture.hpp"
#include "tests/support/temp_dir.hpp"

namespace fg::devices::gpio {
namespace {

using namespace std::chrono_literals;
using test::SimChip;

constexpr unsigned kLine = 3;  // named GPIO17 on the simulated chip

class GpioOnSim : public test::LoopTest, public ::testing::WithParamInterface<Backend> {
 protected:
  std::optional<SimChip> chip;
  test::TempDir dir;
  test::DeviceRecord record;
  std::vector<Reading>& readings = record.readings;
  std::vector<std::string>& log_lines = record.log_lines;

  void SetUp() override {
    if (!SimChip::available()) {
      GTEST_SKIP() << SimChip::unavailable_reason();
    }
    SimChip::remove_stale();
    auto made = SimChip::create({.num_lines = 8, .label = "", .line_names = {{kLine, "GPIO17"}}, .hogs = {}});
    ASSERT_TRUE(made) << made.error();
    chip.emplace(std::move(*made));
  }

  GpioDeviceSettings settings(Mode mode, unsigned offset = kLine) {
    GpioDeviceSettings s;
    s.name = "dev";
    s.mode = mode;
    s.line.chip = chip->label();
    s.line.backend = GetParam();
    // gpiod by name (the lookup libgpiod does), sysfs by offset (it knows no names).
    s.line.line = GetParam() == Backend::sysfs || offset != kLine ? std::to_string(offset) : "GPIO17";
    s.state_dir = dir.path().string();
    s.input.interval = 200ms;
    s.reopen_interval = 50ms;
    return s;
  }

  Device::Sink sink() { return record.sink(loop); }

  std::unique_ptr<GpioDevice> make(const GpioDeviceSettings& s) {
    auto device = GpioDevice::create(loop, s, sink(), {});
    EXPECT_TRUE(device) << device.error();
    return device ? std::move(*device) : nullptr;
  }

  // Runs the loop until `done` holds; false after 10 s (TCG in the VM is slow, but not that slow).
  bool run_until(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) {
        return false;
      }
      loop.run_for(10ms);
    }
    return true;
  }

  // The values of the readings of one channel, in order.
  std::vector<ReadingValue> values(const std::string& channel) const {
    std::vector<ReadingValue> out;
    for (const Reading& r : readings) {
      if (r.channel == channel) {
        out.push_back(r.value);
      }
    }
    return out;
  }

  void pull(unsigned offset, SimChip::Pull p) { ASSERT_TRUE(chip->set_pull(offset, p)); }
};

TEST_P(GpioOnSim, EdgesBothWaysCarryTheirValuesAndKernelTimestamps) {
  auto device = make(settings(Mode::state));
  ASSERT_TRUE(device && device->online()) << (log_lines.empty() ? "" : log_lines.back());
  ASSERT_TRUE(run_until([&] { return !readings.empty(); }));
  EXPECT_EQ(readings[0].value, ReadingValue(false));  // the level at start
  const auto before = std::chrono::system_clock::now();
  pull(kLine, SimChip::Pull::up);
  ASSERT_TRUE(run_until([&] { return readings.size() >= 2; }));
  pull(kLine, SimChip::Pull::down);
  ASSERT_TRUE(run_until([&] { return readings.size() >= 3; }));
  const auto after = std::chrono::system_clock::now();
  EXPECT_EQ(values("state"), (std::vector<ReadingValue>{false, true, false}));
  for (std::size_t i = 1; i < 3; ++i) {
    EXPECT_GE(readings[i].time, before - 50ms) << i;  // the edge's time, not the reading's arrival
    EXPECT_LE(readings[i].time, after) << i;
  }
  EXPECT_LE(readings[1].time, readings[2].time);
}

TEST_P(GpioOnSim, ActiveLowInvertsTheLevel) {
  auto s = settings(Mode::state);
  s.line.active_low = true;
  auto device = make(s);
  ASSERT_TRUE(run_until([&] { return !readings.empty(); }));
  pull(kLine, SimChip::Pull::up);
  ASSERT_TRUE(run_until([&] { return readings.size() >= 2; }));
  EXPECT_EQ(values("state"), (std::vector<ReadingValue>{true, false}));
}

TEST_P(GpioOnSim, DebounceHoldsBackBounces) {
  auto s = settings(Mode::state);
  s.input.debounce = 200ms;
  auto device = make(s);
  ASSERT_TRUE(run_until([&] { return !readings.empty(); }));
  // A contact that bounces: up, down, up, down, up within a few ms, then stays up.
  for (int i = 0; i < 2; ++i) {
    pull(kLine, SimChip::Pull::up);
    pull(kLine, SimChip::Pull::down);
  }
  pull(kLine, SimChip::Pull::up);
  ASSERT_TRUE(run_until([&] { return readings.size() >= 2; }));
  loop.run_for(400ms);  // nothing more comes
  EXPECT_EQ(values("state"), (std::vector<ReadingValue>{false, true}));
}

TEST_P(GpioOnSim, ACounterCountsNPulses) {
  constexpr int kPulses = 25;
  auto s = settings(Mode::counter);
  s.input.edge = Edge::rising;  // the config's default for a counter
  auto device = make(s);
  ASSERT_TRUE(device && device->online());
  // Each edge is let through to the device before the next: sysfs gives only the level at a wake-up.
  std::uint64_t edges = 0;
  const auto edge_seen = [&] {
    for (const Counter& c : device->counters()) {
      if (c.name == "edges" && c.value > edges) {
        edges = c.value;
        return true;
      }
    }
    return false;
  };
  for (int i = 0; i < kPulses; ++i) {
    pull(kLine, SimChip::Pull::up);
    ASSERT_TRUE(run_until(edge_seen));
    pull(kLine, SimChip::Pull::down);
    ASSERT_TRUE(run_until(edge_seen));
  }
  ASSERT_TRUE(run_until([&] {
    const auto counts = values("count");
    return !counts.empty() && counts.back() == ReadingValue(std::int64_t{kPulses});
  })) << "last count: " << std::get<std::int64_t>(values("count").back());
  for (const Counter& c : device->counters()) {
    if (c.name == "kernel_dropped_edges") {
      EXPECT_EQ(c.value, 0u);
    }
  }
}

// More edges than libgpiod v1's kernel buffer keeps (16; it drops the newest) come while the loop does not
// read: the last reading is still the level the line ends at (high: the count is odd), not the level of
// the last edge the kernel kept.
TEST_P(GpioOnSim, AStateInputEndsAtTheLinesLevelAfterMoreEdgesThanTheKernelKeeps) {
  constexpr int kEdges = 41;
  auto device = make(settings(Mode::state));
  ASSERT_TRUE(device && device->online());
  ASSERT_TRUE(run_until([&] { return !readings.empty(); }));
  for (int i = 1; i <= kEdges; ++i) {
    pull(kLine, i % 2 == 1 ? SimChip::Pull::up : SimChip::Pull::down);
  }
  EXPECT_TRUE(run_until([&] { return values("state").back() == ReadingValue(true); }))
      << values("state").size() << " readings, the last false";
  loop.run_for(100ms);  // and nothing after it says otherwise
  EXPECT_EQ(values("state").back(), ReadingValue(true));
}

TEST_P(GpioOnSim, OutputSetChangesTheSimulatedLine) {
  auto device = make(settings(Mode::output, 5));
  ASSERT_TRUE(device && device->online());
  ASSERT_TRUE(chip->wait_value(5, 0, 2s));
  EXPECT_FALSE(device->accept({CommandKind::set, "state", "on"}));
  EXPECT_TRUE(chip->wait_value(5, 1, 2s));
  EXPECT_FALSE(device->accept({CommandKind::set, "state", "toggle"}));
  EXPECT_TRUE(chip->wait_value(5, 0, 2s));
  EXPECT_FALSE(device->accept({CommandKind::set, "state", "1"}));
  EXPECT_TRUE(chip->wait_value(5, 1, 2s));
  device.reset();  // the safe state: off
  EXPECT_TRUE(chip->wait_value(5, 0, 2s));
}

// The simulated line is on from the command until the pulse's duration is over, and off within a bound
// after it: sampled on the line itself while the loop runs. The bound is wide (the VM's CPU is emulated and
// shared), but a pulse that ends early, or one whose duration is ignored or read in the wrong unit, fails.
TEST_P(GpioOnSim, APulseEndsOnTime) {
  constexpr auto kPulse = 300ms;
  constexpr auto kBound = 700ms;
  auto device = make(settings(Mode::output, 5));
  ASSERT_TRUE(device && device->online());
  ASSERT_TRUE(chip->wait_value(5, 0, 2s));
  const auto start = std::chrono::steady_clock::now();
  ASSERT_FALSE(device->accept({CommandKind::pulse, "state", "300ms"}));
  std::optional<std::chrono::steady_clock::time_point> off_at;
  while (!off_at && std::chrono::steady_clock::now() - start < kPulse + 5s) {
    const auto seen = std::chrono::steady_clock::now();
    const auto level = chip->value(5);
    ASSERT_TRUE(level) << level.error();
    if (*level == 0) {
      off_at = seen;
    }
    loop.run_for(1ms);
  }
  ASSERT_TRUE(off_at) << "the pulse did not end within 5 s of its duration";
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(*off_at - start);
  // Not before the duration (less the loop's cached clock, a few ms at most), nor long after it.
  EXPECT_GE(took, kPulse - 50ms) << "the line went off after " << took.count() << " ms";
  EXPECT_LE(took, kPulse + kBound) << "the line went off after " << took.count() << " ms";
  ASSERT_TRUE(run_until([&] { return values("state").back() == ReadingValue(false); }));
}

TEST_P(GpioOnSim, ABusyLineIsReportedAndRetried) {
  // Another holder of the line, through the character device.
  auto holder_settings = settings(Mode::output);
  holder_settings.name = "holder";
  holder_settings.line.backend = Backend::gpiod;
  holder_settings.line.line = std::to_string(kLine);
  auto holder = make(holder_settings);
  ASSERT_TRUE(holder && holder->online());
  auto device = make(settings(Mode::state));
  ASSERT_TRUE(device);
  EXPECT_FALSE(device->online());
  EXPECT_EQ(device->offline_reason(), std::errc::device_or_resource_busy);
  bool reported = false;
  for (const auto& line : log_lines) {
    reported = reported || line.find("another process holds it") != std::string::npos;
  }
  EXPECT_TRUE(reported);
  holder.reset();  // let go: the device takes the line at its next attempt
  ASSERT_TRUE(run_until([&] { return device->online(); }));
}

TEST_P(GpioOnSim, AChipUnpluggedAndBackIsSurvived) {
  auto device = make(settings(Mode::state));
  ASSERT_TRUE(device && device->online());
  ASSERT_TRUE(chip->set_live(false));
  ASSERT_TRUE(run_until([&] { return !device->online(); })) << "the unplug went unnoticed";
  ASSERT_TRUE(chip->set_live(true));
  ASSERT_TRUE(run_until([&] { return device->online(); }));
  const std::size_t before = readings.size();
  pull(kLine, SimChip::Pull::up);
  ASSERT_TRUE(run_until([&] { return readings.size() > before && readings.back().value == ReadingValue(true); }));
}

INSTANTIATE_TEST_SUITE_P(Backends, GpioOnSim, ::testing::Values(Backend::gpiod, Backend::sysfs),
                         [](const auto& info) {
                           return info.param == Backend::sysfs ? std::string("sysfs")
                                                               : "gpiod_v" + std::to_string(gpiod_api());
                         });

}  // namespace
}  // namespace fg::devices::gpio
