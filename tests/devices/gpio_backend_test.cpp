// What runs without a GPIO kernel: how a chip setting is read, which backend `auto` takes, the clear
// error and the offline device for a chip that is not there (this machine has no /dev/gpiochip*), the
// sysfs backend's setup against a directory tree laid out as the kernel's /sys/class/gpio, and the
// output commands' values. Edges on real lines are tests/gpio (gpio-sim, in the VM).

#include <gtest/gtest.h>

#include <fstream>

#include "devices/gpio/chip_spec.hpp"
#include "devices/gpio/gpio_device.hpp"
#include "devices/gpio/gpio_device_core.hpp"
#include "devices/gpio/gpio_error.hpp"
#include "devices/gpio/line.hpp"
#include "tests/devices/gpio_test_util.hpp"
#include "tests/support/loop_fixture.hpp"
#include "tests/support/temp_dir.hpp"

namespace fg::devices::gpio {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

using fg::test::slurp;

TEST(GpioAddressing, ChipSettingsAreAutoPathNameOrLabel) {
  EXPECT_EQ(parse_chip_spec("auto").kind, ChipSpec::Kind::automatic);
  EXPECT_EQ(parse_chip_spec("/dev/gpiochip4").kind, ChipSpec::Kind::path);
  EXPECT_EQ(parse_chip_spec("gpiochip4").kind, ChipSpec::Kind::name);
  EXPECT_EQ(parse_chip_spec("gpiochipX").kind, ChipSpec::Kind::label);
  EXPECT_EQ(parse_chip_spec("pinctrl-rp1").kind, ChipSpec::Kind::label);
}

TEST(GpioAddressing, LinesAreOffsetsOrNames) {
  EXPECT_EQ(line_offset("17"), 17u);
  EXPECT_EQ(line_offset("GPIO17"), std::nullopt);
  EXPECT_EQ(line_offset(""), std::nullopt);
  EXPECT_EQ(line_offset("1x"), std::nullopt);
}

TEST(GpioAddressing, ChipNamesAreListedInNumericOrder) {
  test::TempDir dir;
  for (const char* name : {"gpiochip10", "gpiochip2", "gpiochipX", "ttyS0"}) {
    std::ofstream(dir.path() / name);
  }
  EXPECT_EQ(list_chip_names(dir.path().string()), (std::vector<std::string>{"gpiochip2", "gpiochip10"}));
}

TEST(GpioOutputValues, OnOffNumbersBooleansAndToggle) {
  EXPECT_EQ(parse_level("on", false), true);
  EXPECT_EQ(parse_level(" OFF\n", true), false);
  EXPECT_EQ(parse_level("1", false), true);
  EXPECT_EQ(parse_level("false", true), false);
  EXPECT_EQ(parse_level("toggle", true), false);
  EXPECT_EQ(parse_level("toggle", false), true);
  EXPECT_EQ(parse_level("maybe", false), std::nullopt);
}

class GpioBackendSelection : public test::LoopTest {
 protected:
  test::TempDir dir;
  fg::test::DeviceRecord record;
  std::vector<Reading>& readings = record.readings;
  std::vector<std::pair<bool, std::error_code>>& availability = record.availability;
  std::vector<std::string>& log_lines = record.log_lines;

  GpioDeviceSettings settings(Mode mode = Mode::state) {
    GpioDeviceSettings s;
    s.name = "door";
    s.mode = mode;
    s.line.line = "GPIO17";
    s.line.dev_dir = (dir.path() / "dev").string();
    s.line.sysfs_gpio_dir = (dir.path() / "gpio").string();
    s.reopen_interval = 10ms;
    fs::create_directories(s.line.dev_dir);
    fs::create_directories(s.line.sysfs_gpio_dir);
    return s;
  }

  Device::Sink sink() { return record.sink(loop); }

  // A chip of the kernel's sysfs interface: /sys/class/gpio/gpiochip<base>, with one exported line's
  // files already there (the kernel makes them on export; here the tree is static).
  // With `cdev`, the chip directory sits where the kernel puts it, under its character device's
  // (devices/.../<cdev>/gpio/gpiochip<base>, linked from /sys/class/gpio), and dev/<cdev> exists.
  void sysfs_chip(const std::string& label, unsigned base, unsigned ngpio, unsigned exported,
                  const std::string& cdev = "") {
    const fs::path root = dir.path() / "gpio";
    const std::string name = "gpiochip" + std::to_string(base);
    fs::path chip = root / name;
    if (cdev.empty()) {
      fs::create_directories(chip);
    } else {
      const fs::path real = dir.path() / "devices" / cdev / "gpio" / name;
      fs::create_directories(real);
      fs::create_directory_symlink(real, chip);
      std::ofstream(dir.path() / "dev" / cdev);
    }
    std::ofstream(chip / "label") << label << "\n";
    std::ofstream(chip / "base") << base << "\n";
    std::ofstream(chip / "ngpio") << ngpio << "\n";
    std::ofstream(root / "export");
    std::ofstream(root / "unexport");
    const fs::path line = root / ("gpio" + std::to_string(base + exported));
    fs::create_directories(line);
    for (const char* file : {"active_low", "direction", "edge"}) {
      std::ofstream(line / file);
    }
    std::ofstream(line / "value") << "0\n";
  }
  // An output on line 2 of a sysfs chip labelled "sim" (its value file: output_value()); null if refused.
  std::unique_ptr<GpioDevice> sysfs_output() {
    sysfs_chip("sim", 0, 8, 2);
    auto s = settings(Mode::output);
    s.line.chip = "sim";
    s.line.line = "2";
    s.line.backend = Backend::sysfs;
    auto device = GpioDevice::create(loop, s, sink(), {});
    return device ? std::move(*device) : nullptr;
  }
  fs::path output_value() const { return dir.path() / "gpio" / "gpio2" / "value"; }
};

TEST_F(GpioBackendSelection, GpiodBackendWithoutAChipIsAClearErrorAndTheDeviceStaysOffline) {
  auto s = settings();
  s.line.backend = Backend::gpiod;
  auto device = GpioDevice::create(loop, s, sink(), {});
  ASSERT_TRUE(device) << device.error();  // a missing chip is no reason to stop the gateway
  EXPECT_FALSE((*device)->online());
  EXPECT_EQ((*device)->offline_reason(), make_error_code(GpioError::chip_not_found));
  ASSERT_EQ(availability.size(), 1u);
  EXPECT_FALSE(availability[0].first);
  ASSERT_FALSE(log_lines.empty());
  EXPECT_NE(log_lines[0].find("pinctrl-rp1, pinctrl-bcm2711, pinctrl-bcm2835"), std::string::npos) << log_lines[0];
  EXPECT_NE(log_lines[0].find("0 GPIO chip(s) in " + s.line.dev_dir), std::string::npos) << log_lines[0];
  // It keeps trying, quietly: the same reason is not logged again.
  loop.run_for(50ms);
  EXPECT_EQ(log_lines.size(), 1u);
  EXPECT_EQ(availability.size(), 1u);
}

TEST_F(GpioBackendSelection, AutoTakesSysfsWhenNoCharacterDeviceExists) {
  auto s = settings();
  s.line.chip = "pinctrl-bcm2711";
  auto device = GpioDevice::create(loop, s, sink(), {});
  ASSERT_TRUE(device);
  ASSERT_FALSE(log_lines.empty());
  // sysfs was asked, and it knows offsets only.
  EXPECT_EQ((*device)->offline_reason(), make_error_code(GpioError::needs_offset)) << log_lines[0];
}

TEST_F(GpioBackendSelection, SysfsFindsTheChipByLabelAndDrivesAnOutput) {
  sysfs_chip("pinctrl-bcm2711", 512, 58, 17);
  auto s = settings(Mode::output);
  s.line.line = "17";
  s.line.backend = Backend::sysfs;
  s.line.active_low = true;
  s.output.initial = true;
  s.output.safe = SafeState::off;
  {
    auto device = GpioDevice::create(loop, s, sink(), {});
    ASSERT_TRUE(device);
    ASSERT_TRUE((*device)->online()) << (log_lines.empty() ? "" : log_lines.back());
    const fs::path root = dir.path() / "gpio";
    EXPECT_EQ(slurp(root / "export"), "529");
    EXPECT_EQ(slurp(root / "gpio529" / "active_low"), "1");
    EXPECT_EQ(slurp(root / "gpio529" / "direction"), "low");  // on, active low: the raw level is low
    ASSERT_EQ(readings.size(), 1u);
    EXPECT_EQ(readings[0].value, ReadingValue(true));
    EXPECT_FALSE((*device)->accept({CommandKind::set, "state", "off"}));
    EXPECT_EQ(slurp(root / "gpio529" / "value").substr(0, 1), "0");
    EXPECT_FALSE((*device)->accept({CommandKind::set, "state", "toggle"}));
    EXPECT_EQ(slurp(root / "gpio529" / "value").substr(0, 1), "1");
    EXPECT_EQ((*device)->accept({CommandKind::set, "state", "dim"}), make_error_code(GpioError::bad_value));
    EXPECT_EQ((*device)->accept({CommandKind::set, "other", "on"}), std::errc::operation_not_supported);
  }
  // Shutdown: the safe state, and the line goes back to the kernel.
  EXPECT_EQ(slurp(dir.path() / "gpio" / "gpio529" / "value").substr(0, 1), "0");
  EXPECT_EQ(slurp(dir.path() / "gpio" / "unexport"), "529");
}

// The register keeps what desired_state() answers after a set: a level, never the word "toggle", so a
// restore sets the level the output had instead of toggling once more (issue 11).
TEST_F(GpioBackendSelection, AToggleIsKeptAsTheLevelItResolvedTo) {
  auto device = sysfs_output();
  ASSERT_TRUE(device && device->online());
  const fs::path value = output_value();
  EXPECT_EQ(device->desired_state("state"), "") << "nothing was set yet";
  // Each command, the line's level after it, and the desired state kept for the register.
  struct Step {
    CommandKind kind;
    std::string payload, line, kept;
  };
  const Step steps[] = {
      {CommandKind::set, "1", "1", "on"},
      {CommandKind::set, "toggle", "0", "off"},
      {CommandKind::set, "toggle", "1", "on"},
      // A pulse ends off, so off is what a restart sets, also while the pulse is on.
      {CommandKind::pulse, "1min", "1", "off"},
      // A toggle during a pulse turns the line's level (on) and ends the pulse.
      {CommandKind::set, "toggle", "0", "off"},
      {CommandKind::set, "toggle", "1", "on"},
  };
  for (const Step& step : steps) {
    SCOPED_TRACE(step.payload);
    EXPECT_FALSE(device->accept({step.kind, "state", step.payload}));
    EXPECT_EQ(slurp(value).substr(0, 1), step.line);
    EXPECT_EQ(device->desired_state("state"), step.kept);
  }
  loop.run_for(50ms);
  EXPECT_EQ(slurp(value).substr(0, 1), "1") << "the toggle ended the pulse";
  // A refused value changes nothing; other channels keep no state.
  EXPECT_TRUE(device->accept({CommandKind::set, "state", "dim"}));
  EXPECT_EQ(device->desired_state("state"), "on");
  EXPECT_EQ(device->desired_state("other"), "");
}

TEST_F(GpioBackendSelection, AnOutputToggledWhileOfflineIsKeptAsTheLevelFromItsInitialState) {
  auto s = settings(Mode::output);
  s.line.backend = Backend::gpiod;  // no chip here: the device stays offline
  s.output.initial = true;
  auto device = GpioDevice::create(loop, s, sink(), {});
  ASSERT_TRUE(device);
  ASSERT_FALSE((*device)->online());
  EXPECT_FALSE((*device)->accept({CommandKind::set, "state", "toggle"}));
  EXPECT_EQ((*device)->desired_state("state"), "off");
}

TEST_F(GpioBackendSelection, AChipWhoseNodeDisappearsIsLostAndOpenedAgainWhenItReturns) {
  auto s = settings(Mode::output);  // settings() makes dev/ and gpio/
  sysfs_chip("sim", 0, 8, 2, "gpiochip3");
  s.line.chip = "gpiochip3";  // by the character device's name, which sysfs finds through the link
  s.line.line = "2";
  s.line.backend = Backend::sysfs;
  auto device = GpioDevice::create(loop, s, sink(), {});
  ASSERT_TRUE(device);
  ASSERT_TRUE((*device)->online()) << (log_lines.empty() ? "" : log_lines.back());
  ASSERT_EQ(availability.size(), 1u);
  // The unplug: the kernel removes the node and the sysfs chip.
  fs::remove(dir.path() / "gpio" / "gpiochip0");
  fs::remove(dir.path() / "dev" / "gpiochip3");
  while (availability.size() < 2) {
    ASSERT_FALSE(loop.run_for(5s)) << "the unplug went unnoticed";
  }
  EXPECT_FALSE(availability[1].first);
  EXPECT_EQ((*device)->offline_reason(), std::errc::no_such_device);
  loop.run_for(50ms);  // tries again, and fails: the chip is not there
  EXPECT_FALSE((*device)->online());
  fs::create_directory_symlink(dir.path() / "devices" / "gpiochip3" / "gpio" / "gpiochip0", dir.path() / "gpio" / "gpiochip0");
  std::ofstream(dir.path() / "dev" / "gpiochip3");  // plugged back
  while (availability.size() < 3) {
    ASSERT_FALSE(loop.run_for(5s)) << "the replug went unnoticed";
  }
  EXPECT_TRUE((*device)->online());
}

TEST_F(GpioBackendSelection, APulseEndsOnItsOwnAndASecondRestartsIt) {
  auto device = sysfs_output();
  ASSERT_TRUE(device && device->online());
  const fs::path value = output_value();
  EXPECT_FALSE(device->accept({CommandKind::pulse, "state", "30ms"}));
  EXPECT_EQ(slurp(value).substr(0, 1), "1");
  EXPECT_FALSE(device->accept({CommandKind::pulse, "state", "1min"}));  // restarts it, longer
  loop.run_for(100ms);  // the first pulse's end has passed, the second's is far off even when starved
  EXPECT_EQ(slurp(value).substr(0, 1), "1");
  EXPECT_FALSE(device->accept({CommandKind::pulse, "state", "20"}));  // a bare number is ms
  // The pulse ends on its own: wait for the reading that says so.
  for (int i = 0; i < 10 && readings.back().value != ReadingValue(false); ++i) {
    ASSERT_FALSE(loop.run_for(5s)) << "the pulse never ended";
  }
  EXPECT_EQ(slurp(value).substr(0, 1), "0");
  EXPECT_EQ(device->accept({CommandKind::pulse, "state", "2h"}), make_error_code(GpioError::bad_value));
}

TEST_F(GpioBackendSelection, AnOutputSetWhileOfflineIsKeptAndAPulseIsRefused) {
  auto s = settings(Mode::output);
  s.line.backend = Backend::gpiod;
  auto device = GpioDevice::create(loop, s, sink(), {});
  ASSERT_TRUE(device);
  EXPECT_FALSE((*device)->accept({CommandKind::set, "state", "on"}));  // the register's restore, say
  EXPECT_EQ((*device)->accept({CommandKind::pulse, "state", ""}), make_error_code(GpioError::chip_not_found));
  const auto channels = (*device)->channels();
  ASSERT_EQ(channels.size(), 1u);
  EXPECT_TRUE(channels[0].settable);
  EXPECT_TRUE(channels[0].pulse);
}

}  // namespace
}  // namespace fg::devices::gpio
