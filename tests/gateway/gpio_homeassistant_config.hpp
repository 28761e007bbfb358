#pragma once
// A config whose [[gpio]] entries have [gpio.homeassistant.ENTITY] overrides for every mode, shared by
// the config tests (what is read) and the discovery document tests (what HA is sent).

namespace fg::gateway::test_support {

inline constexpr const char* kGpioHomeAssistantConfig = R"(
[[gpio]]
name = "door"
line = "GPIO17"
[gpio.homeassistant.state]
name = "Front door"
device_class = "door"
icon = "mdi:door"
enabled_by_default = false

[[gpio]]
name = "relay"
mode = "output"
line = "GPIO27"
[gpio.homeassistant.state]
name = "Pump"
device_class = "outlet"
[gpio.homeassistant.pulse]
device_class = "identify"
enabled_by_default = false

[[gpio]]
name = "meter"
mode = "counter"
line = "GPIO22"
payload = "raw"
[gpio.homeassistant.count]
name = "Water"
[gpio.homeassistant.rate]
enabled_by_default = false

[[gpio]]
name = "fan"
mode = "pwm"
pwm_chip = "/sys/class/pwm/pwmchip0"
[gpio.homeassistant.duty]
icon = "mdi:fan"
device_class = ""
[gpio.homeassistant.frequency]
enabled_by_default = false

[[gpio]]
name = "plain"
line = "GPIO5"
)";

}  // namespace fg::gateway::test_support
