// End to end, on a machine without GPIO (no /dev/gpiochip*, as the build machines): a [[gpio]] device
// whose chip is not there is offline with a clear log line, and the gateway keeps serving the rest (a
// serial device's readings, a PWM on a kernel-shaped directory tree). GPIO on a real kernel is
// tests/gpio, in the gpio-sim VM.

#include <filesystem>
#include <fstream>

#include "tests/e2e/e2e_support.hpp"

namespace fg::e2e {
namespace {

bool machine_has_gpio_chips() {
  for (const auto& entry : std::filesystem::directory_iterator("/dev")) {
    if (entry.path().filename().string().starts_with("gpiochip")) {
      return true;
    }
  }
  return false;
}

class E2eGpio : public E2eTest {};

TEST_F(E2eGpio, AMissingChipTakesOnlyItsDeviceOfflineAndTheGatewayServesTheRest) {
  if (machine_has_gpio_chips()) {
    GTEST_SKIP() << "this machine has GPIO chips; the missing chip is tested where there are none";
  }
  auto& dev = add_device("kv");
  // A PWM chip laid out as the kernel's, with channel 0 exported.
  const auto pwm = dir() / "pwmchip0";
  std::filesystem::create_directories(pwm / "pwm0");
  for (const char* file : {"export", "pwm0/period", "pwm0/duty_cycle", "pwm0/enable"}) {
    std::ofstream(pwm / file);
  }
  const std::string config = config_head() + serial_head("kv") + "parser = \"kv\"\n\n" +
                             "[[gpio]]\nname = \"door\"\nline = \"GPIO17\"\nbackend = \"gpiod\"\n\n"
                             "[[gpio]]\nname = \"fan\"\nmode = \"pwm\"\npwm_chip = \"" +
                             pwm.string() + "\"\nduty = 50\nfrequency = 1000\n";
  ASSERT_NO_FATAL_FAILURE(start_gateway(config, {"kv", "fan"}));
  ASSERT_TRUE(sub_->wait_message(device_status_topic("door"), "offline")) << diagnostics();
  EXPECT_NE(log().find("door: cannot find the header chip (chip = \"auto\": a chip labelled pinctrl-rp1, "
                       "pinctrl-bcm2711, pinctrl-bcm2835) among 0 GPIO chip(s) in /dev"),
            std::string::npos)
      << diagnostics();

  // Serial still serves, and the PWM took its commands.
  ASSERT_TRUE(dev.send("t=21.5\n"));
  EXPECT_EQ(wait_readings(topic("kv/t"), 1).size(), 1u) << diagnostics();
  ASSERT_TRUE(sub_->publish(topic("fan/duty/set"), "25"));
  const auto duty = wait_readings(topic("fan/duty"), 2);
  ASSERT_EQ(duty.size(), 2u) << diagnostics();
  EXPECT_EQ(duty[1].value("value", Json()), Json(25.0));
  std::ifstream in(pwm / "pwm0" / "duty_cycle");
  std::string written;
  in >> written;
  EXPECT_EQ(written, "250000");  // a quarter of 1 ms
  // A command for the offline device is refused with the reason; the gateway runs on.
  ASSERT_TRUE(sub_->publish(topic("door/state/pulse"), "100ms"));
  ASSERT_TRUE(sub_->publish(topic("kv/write"), "ping"));
  // Commands are applied in order: once the serial write is through, the pulse was handled.
  EXPECT_EQ(read_exactly(dev.master_fd(), "ping\n"), "ping\n");
  EXPECT_NE(log().find("door: command on " + topic("door/state/pulse") + " refused"), std::string::npos)
      << diagnostics();
  EXPECT_TRUE(gateway_.running());
  stop_gateway();
}

}  // namespace
}  // namespace fg::e2e
