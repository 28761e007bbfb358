#pragma once
// Home Assistant's device classes: which one a channel's unit (and name) implies, and which names HA
// knows, per platform, so a config's override is checked before HA would reject the whole device.
// The lists follow HA's documentation of 2025 (sensor, binary_sensor, switch, number, button).

#include <string_view>

namespace fg::gateway::homeassistant {

// The sensor device class HA defines for a unit: "°C" temperature, "hPa" pressure, "kWh" energy, ...;
// "%" only with a name that says what it is a percentage of (h, hum*, rh: humidity; bat*: battery;
// moist*/soil*: moisture), and "ppm" only for a name with "co2" in it (ppm is also VOCs, CO, ...).
// Empty when HA has none for it, which is also right: HA shows the unit without a class.
std::string_view sensor_device_class(std::string_view unit, std::string_view channel_name) noexcept;

// Energy, gas and water meters are totals: HA refuses state_class "measurement" for them.
bool is_total_device_class(std::string_view device_class) noexcept;

bool is_sensor_device_class(std::string_view name) noexcept;  // also number's
bool is_binary_sensor_device_class(std::string_view name) noexcept;
bool is_switch_device_class(std::string_view name) noexcept;
// Whether HA knows the device class for the platform ("sensor", "binary_sensor", "switch", "number",
// "button"). A number takes the sensor classes except date, enum and timestamp.
bool is_device_class(std::string_view platform, std::string_view name) noexcept;

}  // namespace fg::gateway::homeassistant
