// End to end on a real kernel: the fieldgate binary, a mosquitto broker and an MQTT subscriber, all in the
// gpio-sim VM (tests/gpio-vm). A pull change on a simulated input line reaches the subscriber as a reading;
// a command published over MQTT sets a simulated output line. Once per backend: the character device
// through the build's libgpiod (v1 or v2) and the legacy sysfs interface. Skips where gpio-sim is absent.

#include <gtest/gtest.h>

#include <string>

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
                                 .line_names = {{kInput, "GPIO17"}, {kOutput, "GPIO27"}},
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
  const std::string set = topic("relay/state/set");
  ASSERT_TRUE(sub_->publish(set, "on"));
  auto on = sim_->wait_value(kOutput, 1, kWait);
  EXPECT_TRUE(on) << on.error() << diagnostics();
  ASSERT_TRUE(sub_->publish(set, "off"));
  auto off = sim_->wait_value(kOutput, 0, kWait);
  EXPECT_TRUE(off) << off.error() << diagnostics();
  ASSERT_TRUE(sub_->publish(set, "toggle"));
  auto toggled = sim_->wait_value(kOutput, 1, kWait);
  EXPECT_TRUE(toggled) << toggled.error() << diagnostics();
}

INSTANTIATE_TEST_SUITE_P(Backends, GpioE2e, ::testing::Values("gpiod", "sysfs"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace fg::e2e
