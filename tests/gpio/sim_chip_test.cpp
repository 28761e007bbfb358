// The probe of the gpio-sim helper: raw libgpiod v1 (no fieldgate code) proves that a SimChip gives a
// real gpiochip whose input edges, outputs, hogs, names, unplug and legacy sysfs numbers behave as
// sim_chip.hpp says. Runs in the gpio-sim VM (tests/gpio-vm); skips where gpio-sim is absent.

#include "tests/gpio/sim_chip.hpp"

#include <errno.h>
#include <gpiod.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>

#include "tests/support/temp_dir.hpp"

namespace fg::test {
namespace {

using namespace std::chrono_literals;

struct ChipCloser {
  void operator()(gpiod_chip* chip) const { gpiod_chip_close(chip); }
};
using ChipPtr = std::unique_ptr<gpiod_chip, ChipCloser>;

class SimChipTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!SimChip::available()) GTEST_SKIP() << SimChip::unavailable_reason();
    SimChip::remove_stale();
  }
};

// Waits for one edge on a line requested for events, and returns it (type 0 on timeout).
gpiod_line_event next_event(gpiod_line* line) {
  gpiod_line_event event{};
  timespec timeout{.tv_sec = 5, .tv_nsec = 0};
  if (gpiod_line_event_wait(line, &timeout) == 1) {
    gpiod_line_event_read(line, &event);
  }
  return event;
}

TEST_F(SimChipTest, ChipHasItsLabelLinesAndNames) {
  auto sim = SimChip::create({.num_lines = 6, .label = "", .line_names = {{4, "GPIO17"}}, .hogs = {}});
  ASSERT_TRUE(sim) << sim.error();
  ChipPtr chip(gpiod_chip_open(sim->dev_path().c_str()));
  ASSERT_TRUE(chip) << sim->dev_path() << ": " << strerror(errno);
  EXPECT_EQ(sim->label(), gpiod_chip_label(chip.get()));
  EXPECT_EQ(6u, gpiod_chip_num_lines(chip.get()));
  gpiod_line* named = gpiod_chip_find_line(chip.get(), "GPIO17");
  ASSERT_NE(nullptr, named);
  EXPECT_EQ(4u, gpiod_line_offset(named));
}

TEST_F(SimChipTest, PullChangesAreEdgesWithKernelTimestamps) {
  auto sim = SimChip::create({});
  ASSERT_TRUE(sim) << sim.error();
  ChipPtr chip(gpiod_chip_open(sim->dev_path().c_str()));
  ASSERT_TRUE(chip);
  gpiod_line* line = gpiod_chip_get_line(chip.get(), 3);
  ASSERT_EQ(0, gpiod_line_request_both_edges_events(line, "sim-probe")) << strerror(errno);
  EXPECT_EQ(0, gpiod_line_get_value(line));

  ASSERT_TRUE(sim->set_pull(3, SimChip::Pull::up));
  gpiod_line_event rising = next_event(line);
  EXPECT_EQ(GPIOD_LINE_EVENT_RISING_EDGE, rising.event_type);
  EXPECT_EQ(1, gpiod_line_get_value(line));

  ASSERT_TRUE(sim->set_pull(3, SimChip::Pull::down));
  gpiod_line_event falling = next_event(line);
  EXPECT_EQ(GPIOD_LINE_EVENT_FALLING_EDGE, falling.event_type);
  auto ns = [](const timespec& t) { return t.tv_sec * 1'000'000'000LL + t.tv_nsec; };
  EXPECT_GT(ns(rising.ts), 0);
  EXPECT_GT(ns(falling.ts), ns(rising.ts));
  gpiod_line_release(line);
}

TEST_F(SimChipTest, OutputValueIsWhatTheRequesterDrives) {
  auto sim = SimChip::create({});
  ASSERT_TRUE(sim) << sim.error();
  ChipPtr chip(gpiod_chip_open(sim->dev_path().c_str()));
  ASSERT_TRUE(chip);
  gpiod_line* line = gpiod_chip_get_line(chip.get(), 5);
  ASSERT_EQ(0, gpiod_line_request_output(line, "sim-probe", 1)) << strerror(errno);
  EXPECT_EQ(1, sim->value(5).value_or(-1));
  ASSERT_EQ(0, gpiod_line_set_value(line, 0));
  EXPECT_TRUE(sim->wait_value(5, 0, 1s));
  auto timed_out = sim->wait_value(5, 1, 10ms);
  ASSERT_FALSE(timed_out);
  EXPECT_NE(std::string::npos, timed_out.error().find("stayed 0"));
  gpiod_line_release(line);
  // Released, the line falls back to its pull (down).
  EXPECT_EQ(0, sim->value(5).value_or(-1));
}

TEST_F(SimChipTest, HoggedLineIsBusyForOthers) {
  auto sim = SimChip::create({.num_lines = 4,
                              .label = "",
                              .line_names = {},
                              .hogs = {{.offset = 2, .consumer = "someone-else",
                                        .direction = SimChip::HogDirection::output_high}}});
  ASSERT_TRUE(sim) << sim.error();
  ChipPtr chip(gpiod_chip_open(sim->dev_path().c_str()));
  ASSERT_TRUE(chip);
  gpiod_line* line = gpiod_chip_get_line(chip.get(), 2);
  EXPECT_TRUE(gpiod_line_is_used(line));
  EXPECT_STREQ("someone-else", gpiod_line_consumer(line));
  EXPECT_EQ(-1, gpiod_line_request_input(line, "sim-probe"));
  EXPECT_EQ(EBUSY, errno);
  EXPECT_EQ(1, sim->value(2).value_or(-1));
}

TEST_F(SimChipTest, UnplugRemovesTheDeviceAndReplugBringsItBack) {
  auto sim = SimChip::create({.num_lines = 4, .label = "", .line_names = {{0, "GPIO4"}}, .hogs = {}});
  ASSERT_TRUE(sim) << sim.error();
  const std::string before = sim->dev_path();
  ASSERT_TRUE(sim->set_live(false));
  EXPECT_FALSE(std::filesystem::exists(before));
  EXPECT_FALSE(sim->live());
  ASSERT_TRUE(sim->set_live(true));
  ChipPtr chip(gpiod_chip_open(sim->dev_path().c_str()));
  ASSERT_TRUE(chip) << sim->dev_path();
  EXPECT_EQ(sim->label(), gpiod_chip_label(chip.get()));
  EXPECT_NE(nullptr, gpiod_chip_find_line(chip.get(), "GPIO4"));
}

TEST_F(SimChipTest, DestructorRemovesTheChip) {
  std::string config_dir;
  std::string dev_path;
  {
    auto sim = SimChip::create({.num_lines = 2, .label = "", .line_names = {{1, "X"}},
                                .hogs = {{.offset = 0, .consumer = "h", .direction = {}}}});
    ASSERT_TRUE(sim) << sim.error();
    config_dir = sim->config_dir();
    dev_path = sim->dev_path();
    ASSERT_TRUE(std::filesystem::exists(config_dir));
  }
  EXPECT_FALSE(std::filesystem::exists(config_dir));
  EXPECT_FALSE(std::filesystem::exists(dev_path));
}

TEST_F(SimChipTest, MovedChipIsRemovedOnce) {
  auto sim = SimChip::create({});
  ASSERT_TRUE(sim) << sim.error();
  SimChip moved = std::move(*sim);
  EXPECT_TRUE(moved.live());
  EXPECT_TRUE(std::filesystem::exists(moved.dev_path()));
}

TEST_F(SimChipTest, LegacySysfsNumberReadsThePull) {
  auto sim = SimChip::create({});
  ASSERT_TRUE(sim) << sim.error();
  auto base = sim->sysfs_base();
  ASSERT_TRUE(base) << base.error();
  const std::string number = std::to_string(*base + 6);
  write_file("/sys/class/gpio/export", number);
  const std::filesystem::path value = "/sys/class/gpio/gpio" + number + "/value";
  ASSERT_TRUE(std::filesystem::exists(value)) << "export of " << number << " failed";
  EXPECT_EQ("0\n", read_file(value));
  ASSERT_TRUE(sim->set_pull(6, SimChip::Pull::up));
  EXPECT_EQ("1\n", read_file(value));
  write_file("/sys/class/gpio/unexport", number);
  EXPECT_FALSE(std::filesystem::exists(value));
}

TEST(SimChipHost, UnavailableReasonNamesTheVmScript) {
  EXPECT_NE(std::string::npos, SimChip::unavailable_reason().find("tests/gpio-vm"));
}

}  // namespace
}  // namespace fg::test
