// PWM through /sys/class/pwm, against a directory tree laid out as the kernel's (the kernel has no PWM
// simulator): export, period and duty cycle in nanoseconds, enable, bounds, and the safe state.

#include "devices/gpio/pwm_channel.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "devices/gpio/gpio_device.hpp"
#include "devices/gpio/gpio_error.hpp"
#include "tests/devices/gpio_test_util.hpp"
#include "tests/support/loop_fixture.hpp"
#include "tests/support/temp_dir.hpp"

namespace fg::devices::gpio {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

using fg::test::slurp;

class GpioPwmOnFakeSysfsTree : public test::LoopTest {
 protected:
  test::TempDir dir;
  fs::path chip = dir.path() / "pwmchip0";
  std::vector<Reading> readings;
  std::vector<bool> availability;

  void SetUp() override {
    fs::create_directories(chip);
    std::ofstream(chip / "export");
    std::ofstream(chip / "npwm") << "2\n";
  }

  // What `export` does in the kernel: the channel's directory with its files.
  void exported(unsigned channel) {
    const fs::path pwm = chip / ("pwm" + std::to_string(channel));
    fs::create_directories(pwm);
    std::ofstream(pwm / "period") << "0\n";
    std::ofstream(pwm / "duty_cycle") << "0\n";
    std::ofstream(pwm / "enable") << "0\n";
  }

  GpioDeviceSettings settings() {
    GpioDeviceSettings s;
    s.name = "fan";
    s.mode = Mode::pwm;
    s.pwm.chip = chip.string();
    s.pwm.channel = 1;
    s.pwm.frequency = 25000;
    s.pwm.duty = 40;
    s.pwm.min_frequency = 100;
    s.pwm.max_frequency = 50000;
    s.reopen_interval = 10ms;
    return s;
  }

  Device::Sink sink() {
    Device::Sink s;
    s.on_reading = [this](Reading&& r) { readings.push_back(std::move(r)); };
    s.on_availability = [this](bool online, std::error_code) {
      availability.push_back(online);
      if (online) {
        loop.stop();
      }
    };
    return s;
  }
};

TEST_F(GpioPwmOnFakeSysfsTree, PeriodAndDutyAreNanoseconds) {
  EXPECT_EQ(PwmChannel::period_ns(25000), 40000u);
  EXPECT_EQ(PwmChannel::duty_ns(40000, 25), 10000u);
  EXPECT_EQ(PwmChannel::period_ns(3), 333333333u);
}

TEST_F(GpioPwmOnFakeSysfsTree, StartWritesPeriodDutyAndEnable) {
  exported(1);
  auto device = GpioDevice::create(loop, settings(), sink(), {});
  ASSERT_TRUE(device) << device.error();
  EXPECT_TRUE((*device)->online());
  EXPECT_EQ(slurp(chip / "pwm1" / "period"), "40000");
  EXPECT_EQ(slurp(chip / "pwm1" / "duty_cycle"), "16000");
  EXPECT_EQ(slurp(chip / "pwm1" / "enable"), "1");
  ASSERT_EQ(readings.size(), 2u);
  EXPECT_EQ(readings[0].channel, "duty");
  EXPECT_EQ(readings[0].value, ReadingValue(40.0));
  EXPECT_EQ(readings[1].channel, "frequency");
}

TEST_F(GpioPwmOnFakeSysfsTree, DutyAndFrequencyOverCommandsWithinBounds) {
  exported(1);
  auto device = GpioDevice::create(loop, settings(), sink(), {});
  ASSERT_TRUE(device);
  EXPECT_FALSE((*device)->accept({CommandKind::set, "duty", "75"}));
  EXPECT_EQ(slurp(chip / "pwm1" / "duty_cycle"), "30000");
  EXPECT_FALSE((*device)->accept({CommandKind::set, "frequency", "1000"}));
  EXPECT_EQ(slurp(chip / "pwm1" / "period"), "1000000");
  EXPECT_EQ(slurp(chip / "pwm1" / "duty_cycle"), "750000");
  EXPECT_EQ((*device)->accept({CommandKind::set, "duty", "101"}), make_error_code(GpioError::out_of_range));
  EXPECT_EQ((*device)->accept({CommandKind::set, "frequency", "60000"}), make_error_code(GpioError::out_of_range));
  EXPECT_EQ((*device)->accept({CommandKind::set, "duty", "half"}), make_error_code(GpioError::bad_value));
  EXPECT_EQ((*device)->accept({CommandKind::pulse, "duty", ""}), std::errc::operation_not_supported);
  EXPECT_EQ(slurp(chip / "pwm1" / "period"), "1000000");  // refused commands changed nothing
  // The register keeps the numbers as applied, whatever the payload's spelling.
  EXPECT_EQ((*device)->desired_state("duty"), "75");
  EXPECT_EQ((*device)->desired_state("frequency"), "1000");
  EXPECT_FALSE((*device)->accept({CommandKind::set, "duty", " 12.5\n"}));
  EXPECT_EQ((*device)->desired_state("duty"), "12.5");
}

TEST_F(GpioPwmOnFakeSysfsTree, AChannelNotYetExportedIsExportedAndRetriedUntilItAppears) {
  auto device = GpioDevice::create(loop, settings(), sink(), {});
  ASSERT_TRUE(device);
  EXPECT_FALSE((*device)->online());
  EXPECT_EQ((*device)->offline_reason(), make_error_code(GpioError::pwm_not_exported));
  EXPECT_EQ(slurp(chip / "export"), "1");
  // A duty set meanwhile is kept and applied when the channel appears.
  EXPECT_FALSE((*device)->accept({CommandKind::set, "duty", "10"}));
  exported(1);
  run_expecting_stop();
  EXPECT_TRUE((*device)->online());
  EXPECT_EQ(slurp(chip / "pwm1" / "duty_cycle"), "4000");
}

TEST_F(GpioPwmOnFakeSysfsTree, ShutdownDisablesOrLeavesTheSafeDuty) {
  exported(1);
  {
    auto device = GpioDevice::create(loop, settings(), sink(), {});
    ASSERT_TRUE(device);
  }
  EXPECT_EQ(slurp(chip / "pwm1" / "enable"), "0");
  auto with_safe = settings();
  with_safe.pwm.safe_duty = 100;  // a fan runs at full speed when nothing controls it
  {
    auto device = GpioDevice::create(loop, with_safe, sink(), {});
    ASSERT_TRUE(device);
  }
  EXPECT_EQ(slurp(chip / "pwm1" / "duty_cycle"), "40000");
  EXPECT_EQ(slurp(chip / "pwm1" / "enable"), "1");
}

TEST_F(GpioPwmOnFakeSysfsTree, NoChipIsAClearError) {
  auto s = settings();
  s.pwm.chip = (dir.path() / "pwmchip9").string();
  auto pwm = PwmChannel::open(s.pwm);
  ASSERT_FALSE(pwm);
  EXPECT_NE(pwm.error().text.find("dtoverlay=pwm"), std::string::npos) << pwm.error().text;
}

}  // namespace
}  // namespace fg::devices::gpio
