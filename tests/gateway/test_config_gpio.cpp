// [[gpio]]: each mode's keys onto GpioDeviceSettings, the defaults, and the errors at FILE:LINE:COLUMN with
// the key: keys of another mode, sysfs with a line name, bad values, a line used twice, a name taken by a
// serial device. Also checks examples/gpio-pi.toml.

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "gateway/config/config.hpp"
#include "tests/gateway/config_test_support.hpp"
#include "tests/gateway/gpio_homeassistant_config.hpp"

namespace fg::gateway {
namespace {

using namespace std::chrono_literals;
using test_support::issue;
using test_support::issues;
using test_support::parse;
namespace dg = devices::gpio;

TEST(ConfigGpio, DefaultsAreAStateInputOnTheHeaderChip) {
  const Config config = parse("[[gpio]]\nname = \"door\"\nline = \"GPIO17\"\n");
  ASSERT_EQ(config.gpio.size(), 1u);
  const auto& d = config.gpio[0].device;
  EXPECT_EQ(d.name, "door");
  EXPECT_EQ(d.mode, dg::Mode::state);
  EXPECT_EQ(d.line.chip, "auto");
  EXPECT_EQ(d.line.line, "GPIO17");
  EXPECT_EQ(d.line.backend, dg::Backend::automatic);
  EXPECT_EQ(d.line.bias, dg::Bias::as_is);
  EXPECT_EQ(d.input.edge, dg::Edge::both);
  EXPECT_EQ(d.input.debounce, 0ms);
  EXPECT_EQ(config.gpio[0].payload, PayloadForm::json);
}

TEST(ConfigGpio, EveryModeMapsItsKeys) {
  const Config config = parse(R"(
[[gpio]]
name = "door"
chip = "pinctrl-rp1"
line = 17
backend = "sysfs"
active_low = true
edge = "falling"
debounce = "20ms"
reopen_interval = "2s"

[[gpio]]
name = "meter"
mode = "counter"
line = "GPIO27"
bias = "pull-up"
interval = "30s"
state_dir = "/tmp/counts"
payload = "raw"

[[gpio]]
name = "relay"
mode = "output"
chip = "/dev/gpiochip0"
line = "GPIO22"
initial = "on"
safe = "keep"
pulse = "250ms"
max_pulse = "10s"

[[gpio]]
name = "fan"
mode = "pwm"
pwm_chip = "/sys/class/pwm/pwmchip0"
pwm_channel = 1
frequency = 25000
duty = 30
min_frequency = 100
max_frequency = 40000
safe_duty = 100
)");
  ASSERT_EQ(config.gpio.size(), 4u);
  const auto& door = config.gpio[0].device;
  EXPECT_EQ(door.line.line, "17");
  EXPECT_EQ(door.line.backend, dg::Backend::sysfs);
  EXPECT_TRUE(door.line.active_low);
  EXPECT_EQ(door.input.edge, dg::Edge::falling);
  EXPECT_EQ(door.input.debounce, 20ms);
  EXPECT_EQ(door.reopen_interval, 2s);
  const auto& meter = config.gpio[1].device;
  EXPECT_EQ(meter.mode, dg::Mode::counter);
  EXPECT_EQ(meter.input.edge, dg::Edge::rising);  // a counter's default
  EXPECT_EQ(meter.line.bias, dg::Bias::pull_up);
  EXPECT_EQ(meter.input.interval, 30s);
  EXPECT_EQ(meter.state_dir, "/tmp/counts");
  EXPECT_EQ(config.gpio[1].payload, PayloadForm::raw);
  const auto& relay = config.gpio[2].device;
  EXPECT_TRUE(relay.output.initial);
  EXPECT_EQ(relay.output.safe, dg::SafeState::keep);
  EXPECT_EQ(relay.output.pulse, 250ms);
  EXPECT_EQ(relay.output.max_pulse, 10s);
  const auto& fan = config.gpio[3].device;
  EXPECT_EQ(fan.pwm.chip, "/sys/class/pwm/pwmchip0");
  EXPECT_EQ(fan.pwm.channel, 1u);
  EXPECT_EQ(fan.pwm.frequency, 25000);
  EXPECT_EQ(fan.pwm.duty, 30);
  EXPECT_EQ(fan.pwm.safe_duty, 100);
}

TEST(ConfigGpio, AKeyOfAnotherModeIsNamedWithItsMode) {
  EXPECT_EQ(issue("[[gpio]]\nname = \"door\"\nline = \"GPIO17\"\npulse = \"1s\"\n"),
            "site.toml:4:9: gpio[0].pulse: not used with mode = \"state\" (it is a key of mode = \"output\")");
  EXPECT_EQ(issue("[[gpio]]\nname = \"fan\"\nmode = \"pwm\"\npwm_chip = \"/sys/class/pwm/pwmchip0\"\nline = 3\n"),
            "site.toml:5:8: gpio[0].line: not used with mode = \"pwm\" (it is a key of mode = \"state\")");
}

TEST(ConfigGpio, RequiredKeysAndBadValues) {
  EXPECT_EQ(issue("[[gpio]]\nname = \"door\"\n"),
            "site.toml:1:1: gpio[0].line: missing required key (a line name such as \"GPIO17\", or an offset such "
            "as \"17\")");
  EXPECT_EQ(issue("[[gpio]]\nname = \"door\"\nline = -1\n"),
            "site.toml:3:8: gpio[0].line: an offset must be between 0 and 65535, got -1");
  EXPECT_EQ(issue("[[gpio]]\nname = \"door\"\nline = 1\nedge = \"up\"\n"),
            "site.toml:4:8: gpio[0].edge: expected one of \"rising\", \"falling\", \"both\", got \"up\"");
  EXPECT_EQ(issue("[[gpio]]\nname = \"door\"\nline = 1\nbias = \"pullup\"\n"),
            "site.toml:4:8: gpio[0].bias: expected one of \"as-is\", \"pull-up\", \"pull-down\", \"disabled\", got "
            "\"pullup\"");
  EXPECT_EQ(issue("[[gpio]]\nname = \"door\"\nline = 1\nmode = \"blink\"\n"),
            "site.toml:4:8: gpio[0].mode: expected one of \"state\", \"counter\", \"output\", \"pwm\", got \"blink\"");
  EXPECT_EQ(issue("[[gpio]]\nname = \"fan\"\nmode = \"pwm\"\npwm_chip = \"/p\"\nduty = 120\n"),
            "site.toml:5:8: gpio[0].duty: a duty cycle is between 0 and 100 (per cent)");
  EXPECT_EQ(issue("[[gpio]]\nname = \"fan\"\nmode = \"pwm\"\npwm_chip = \"/p\"\nfrequency = 5\nmin_frequency = 10\n"),
            "site.toml:5:13: gpio[0].frequency: the frequency at start must lie between min_frequency and "
            "max_frequency");
  EXPECT_EQ(issue("[[gpio]]\nname = \"r\"\nmode = \"output\"\nline = 1\npulse = \"2h\"\n"),
            "site.toml:5:9: gpio[0].pulse: is longer than max_pulse (1h)");
  EXPECT_EQ(issue("[[gpio]]\nname = \"door\"\nline = 1\nunknown_key = 1\n"),
            "site.toml:4:1: gpio[0].unknown_key: unknown key");
}

TEST(ConfigGpio, SysfsTakesOffsetsAndNoBias) {
  const auto all = issues("[[gpio]]\nname = \"door\"\nline = \"GPIO17\"\nbackend = \"sysfs\"\nbias = \"pull-up\"\n");
  ASSERT_EQ(all.size(), 2u) << test_support::join(all);
  EXPECT_EQ(all[0], "site.toml:3:8: gpio[0].line: backend = \"sysfs\" addresses lines by offset (line = 17), not by name");
  EXPECT_EQ(all[1], "site.toml:5:8: gpio[0].bias: backend = \"sysfs\" cannot set a bias");
}

TEST(ConfigGpio, OneDevicePerLineAndNamesUniqueAcrossKinds) {
  EXPECT_EQ(issue("[[gpio]]\nname = \"a\"\nline = \"GPIO4\"\n[[gpio]]\nname = \"b\"\nline = \"GPIO4\"\n"),
            "site.toml:6:8: gpio[1].line: already used by gpio[0] (one device per line)");
  EXPECT_EQ(issue("[[serial]]\nname = \"x\"\npath = \"/dev/ttyUSB0\"\n[[gpio]]\nname = \"x\"\nline = 4\n"),
            "site.toml:5:8: gpio[0].name: duplicate device name \"x\", already used by serial[0]");
  EXPECT_EQ(issue("gpio = 3\n"), "site.toml:1:8: gpio: expected an array of tables ([[gpio]]), got an integer");
}

TEST(ConfigGpio, HomeAssistantOverridesPerEntityOfTheMode) {
  const Config config = parse(test_support::kGpioHomeAssistantConfig);
  ASSERT_EQ(config.gpio.size(), 5u);
  const auto& door = config.gpio[0].homeassistant;
  ASSERT_TRUE(door.channels.contains("state"));
  EXPECT_EQ(door.channels.at("state").name, "Front door");
  EXPECT_EQ(door.channels.at("state").device_class, "door");
  EXPECT_EQ(door.channels.at("state").icon, "mdi:door");
  EXPECT_EQ(door.channels.at("state").enabled_by_default, false);
  const auto& relay = config.gpio[1].homeassistant;
  EXPECT_EQ(relay.channels.at("state").device_class, "outlet");
  ASSERT_TRUE(relay.pulse_buttons.contains("state")) << "the button of the output's state channel";
  EXPECT_EQ(relay.pulse_buttons.at("state").device_class, "identify");
  EXPECT_FALSE(relay.pulse_buttons.at("state").name);
  const auto& meter = config.gpio[2].homeassistant;
  EXPECT_EQ(meter.channels.at("count").name, "Water");
  EXPECT_EQ(meter.channels.at("rate").enabled_by_default, false);
  EXPECT_EQ(config.gpio[3].homeassistant.channels.at("duty").device_class, "");
  EXPECT_EQ(config.gpio[4].homeassistant, homeassistant::DeviceOptions{});

  // What discovery looks up: the overrides with the payload form, GPIO settables as controls.
  const auto options = homeassistant_options(config, "meter");
  EXPECT_EQ(options.channels.at("count").name, "Water");
  EXPECT_TRUE(options.raw_payload);
  EXPECT_TRUE(options.settable_is_control);
}

TEST(ConfigGpio, HomeAssistantOverridesAreCheckedForTheEntitysPlatform) {
  const std::string door = "[[gpio]]\nname = \"door\"\nline = 1\n";
  const std::string relay = "[[gpio]]\nname = \"relay\"\nmode = \"output\"\nline = 1\n";
  EXPECT_EQ(issue(door + "[gpio.homeassistant.state]\ndevice_class = \"outlet\"\n"),
            "site.toml:5:16: gpio[0].homeassistant.state.device_class: Home Assistant has no binary_sensor device "
            "class \"outlet\" (\"\" for none)");
  EXPECT_EQ(issue(relay + "[gpio.homeassistant.state]\ndevice_class = \"door\"\n"),
            "site.toml:6:16: gpio[0].homeassistant.state.device_class: Home Assistant has no switch device class "
            "\"door\" (\"\" for none)");
  EXPECT_EQ(issue(relay + "[gpio.homeassistant.pulse]\ndevice_class = \"outlet\"\n"),
            "site.toml:6:16: gpio[0].homeassistant.pulse.device_class: Home Assistant has no button device class "
            "\"outlet\" (\"\" for none)");
  EXPECT_EQ(issue("[[gpio]]\nname = \"fan\"\nmode = \"pwm\"\npwm_chip = \"/p\"\n"
                  "[gpio.homeassistant.frequency]\ndevice_class = \"timestamp\"\n"),
            "site.toml:6:16: gpio[0].homeassistant.frequency.device_class: Home Assistant has no number device "
            "class \"timestamp\" (\"\" for none)");
  EXPECT_EQ(issue(door + "[gpio.homeassistant.state]\nicon = \"door\"\n"),
            "site.toml:5:8: gpio[0].homeassistant.state.icon: must be an icon name with its set, such as "
            "\"mdi:thermometer\", got \"door\"");
  EXPECT_EQ(issue(door + "[gpio.homeassistant.state]\nname = \"\"\n"),
            "site.toml:5:8: gpio[0].homeassistant.state.name: must not be empty (leave it out for the channel's "
            "name)");
  EXPECT_EQ(issue(door + "[gpio.homeassistant.state]\ncolour = \"red\"\n"),
            "site.toml:5:1: gpio[0].homeassistant.state.colour: unknown key");
}

TEST(ConfigGpio, HomeAssistantEntitiesAreTheModesChannels) {
  const std::string door = "[[gpio]]\nname = \"door\"\nline = 1\n";
  EXPECT_EQ(issue(door + "[gpio.homeassistant.pulse]\nname = \"x\"\n"),
            "site.toml:4:1: gpio[0].homeassistant.pulse: not an entity of this device; mode = \"state\" has the "
            "entities \"state\"");
  EXPECT_EQ(issue("[[gpio]]\nname = \"m\"\nmode = \"counter\"\nline = 1\n[gpio.homeassistant.state]\n"),
            "site.toml:5:1: gpio[0].homeassistant.state: not an entity of this device; mode = \"counter\" has the "
            "entities \"count\", \"rate\"");
  // The keys of an entity written straight into [gpio.homeassistant]: where they go.
  EXPECT_EQ(issue(door + "[gpio.homeassistant]\nname = \"Door\"\n"),
            "site.toml:5:8: gpio[0].homeassistant.name: goes in the table of the entity it is for, such as "
            "[gpio.homeassistant.state]; mode = \"state\" has the entities \"state\"");
  EXPECT_EQ(issue(door + "homeassistant = 1\n"),
            "site.toml:4:17: gpio[0].homeassistant: expected a table, got an integer");
}

TEST(ConfigGpio, ThePiExampleIsValid) {
  const auto config = load_config(std::string(FG_SOURCE_DIR) + "/examples/gpio-pi.toml");
  ASSERT_TRUE(config.has_value()) << config.error().front().format();
  ASSERT_EQ(config->gpio.size(), 4u);
  EXPECT_EQ(config->gpio[0].device.mode, dg::Mode::state);
  EXPECT_EQ(config->gpio[1].device.mode, dg::Mode::output);
  EXPECT_EQ(config->gpio[2].device.mode, dg::Mode::counter);
  EXPECT_EQ(config->gpio[3].device.mode, dg::Mode::pwm);
  EXPECT_EQ(config->gpio[0].homeassistant.channels.at("state").name, "Garage door shut");
  EXPECT_EQ(config->gpio[3].homeassistant.channels.at("frequency").enabled_by_default, false);
}

}  // namespace
}  // namespace fg::gateway
