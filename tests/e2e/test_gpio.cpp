// End to end, on a machine without GPIO (no /dev/gpiochip*, as the build machines): a [[gpio]] device
// whose chip is not there is offline with a clear log line, and the gateway keeps serving the rest (a
// serial device's readings, a PWM on a kernel-shaped directory tree); [gpio.homeassistant.ENTITY]
// overrides reach Home Assistant's discovery documents and follow a reload. GPIO on a real kernel is
// tests/gpio, in the gpio-sim VM.

#include <csignal>
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

class E2eGpio : public E2eTest {
 protected:
  // A PWM chip laid out as the kernel's, with channel 0 exported; its directory.
  std::filesystem::path fake_pwm_chip() {
    const auto pwm = dir() / "pwmchip0";
    std::filesystem::create_directories(pwm / "pwm0");
    for (const char* file : {"export", "pwm0/period", "pwm0/duty_cycle", "pwm0/enable"}) {
      std::ofstream(pwm / file);
    }
    return pwm;
  }
};

TEST_F(E2eGpio, AMissingChipTakesOnlyItsDeviceOfflineAndTheGatewayServesTheRest) {
  if (machine_has_gpio_chips()) {
    GTEST_SKIP() << "this machine has GPIO chips; the missing chip is tested where there are none";
  }
  auto& dev = add_device("kv");
  const auto pwm = fake_pwm_chip();
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

// The overrides of a device that opened (the PWM) and of one that did not (the door: no chip here), in
// the retained documents; a reload (SIGHUP) that renames the door publishes its document again, with
// both devices left open or closed as they were.
TEST_F(E2eGpio, HomeAssistantOverridesReachDiscoveryAndFollowAReload) {
  if (machine_has_gpio_chips()) {
    GTEST_SKIP() << "this machine has GPIO chips; the door's line is meant to be missing";
  }
  test::MqttClient ha;
  ASSERT_TRUE(ha.connect("127.0.0.1", broker_.port()));
  ASSERT_TRUE(ha.subscribe("homeassistant/#"));
  const auto doc_topic = [](const std::string& device) { return "homeassistant/device/t1/" + device + "/config"; };
  const auto document = [&](const std::string& device, std::size_t from) {
    auto m = ha.wait_message(doc_topic(device), std::nullopt, from);
    return m ? Json::parse(m->payload, nullptr, false) : Json();
  };
  const std::string fan = "[[gpio]]\nname = \"fan\"\nmode = \"pwm\"\npwm_chip = \"" + fake_pwm_chip().string() +
                          "\"\n[gpio.homeassistant.duty]\nname = \"Fan speed\"\nicon = \"mdi:fan\"\n"
                          "[gpio.homeassistant.frequency]\nenabled_by_default = false\n";
  const auto door = [](const std::string& name) {
    return "[[gpio]]\nname = \"door\"\nline = \"GPIO17\"\n[gpio.homeassistant.state]\nname = \"" + name +
           "\"\ndevice_class = \"door\"\n";
  };
  ASSERT_NO_FATAL_FAILURE(start_gateway(config_head() + fan + door("Front door"), {"fan"}));
  Json fan_doc = document("fan", 0);
  ASSERT_TRUE(fan_doc.is_object()) << diagnostics();
  EXPECT_EQ(fan_doc["cmps"]["duty"]["p"], "number");
  EXPECT_EQ(fan_doc["cmps"]["duty"]["name"], "Fan speed");
  EXPECT_EQ(fan_doc["cmps"]["duty"]["icon"], "mdi:fan");
  EXPECT_EQ(fan_doc["cmps"]["frequency"]["enabled_by_default"], false);
  Json door_doc = document("door", 0);
  ASSERT_TRUE(door_doc.is_object()) << diagnostics();
  EXPECT_EQ(door_doc["cmps"]["state"]["p"], "binary_sensor");
  EXPECT_EQ(door_doc["cmps"]["state"]["name"], "Front door");
  EXPECT_EQ(door_doc["cmps"]["state"]["device_class"], "door");

  const std::size_t mark = ha.size();
  const std::size_t sub_mark = sub_->size();
  test::write_file(config_path_, config_head() + fan + door("Back door"));
  gateway_.signal(SIGHUP);
  door_doc = document("door", mark);
  ASSERT_TRUE(door_doc.is_object()) << "the door's document is not published again" << diagnostics();
  EXPECT_EQ(door_doc["cmps"]["state"]["name"], "Back door");
  // Both documents go out in one update, so the fan's would have come before or with the door's.
  EXPECT_TRUE(ha.on_topic(doc_topic("fan"), mark).empty()) << "the fan's document did not change";
  EXPECT_TRUE(sub_->on_topic(device_status_topic("fan"), sub_mark).empty()) << "the fan was reopened";
  EXPECT_TRUE(gateway_.running());
  stop_gateway();
  EXPECT_NE(log().find("devices: 2 unchanged"), std::string::npos) << diagnostics();
}

}  // namespace
}  // namespace fg::e2e
