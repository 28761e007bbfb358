#include "gateway/homeassistant/device_class.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <iterator>
#include <string>

namespace fg::gateway::homeassistant {
namespace {

struct UnitClass {
  std::string_view unit;
  std::string_view device_class;
};

// Units whose device class does not depend on the name.
constexpr std::array kUnits{
    UnitClass{"°C", "temperature"},    UnitClass{"°F", "temperature"},
    UnitClass{"K", "temperature"},     UnitClass{"Pa", "pressure"},
    UnitClass{"hPa", "pressure"},      UnitClass{"kPa", "pressure"},
    UnitClass{"bar", "pressure"},      UnitClass{"mbar", "pressure"},
    UnitClass{"psi", "pressure"},      UnitClass{"mmHg", "pressure"},
    UnitClass{"inHg", "pressure"},     UnitClass{"V", "voltage"},
    UnitClass{"mV", "voltage"},        UnitClass{"kV", "voltage"},
    UnitClass{"A", "current"},         UnitClass{"mA", "current"},
    UnitClass{"W", "power"},           UnitClass{"kW", "power"},
    UnitClass{"mW", "power"},          UnitClass{"Wh", "energy"},
    UnitClass{"kWh", "energy"},        UnitClass{"MWh", "energy"},
    UnitClass{"VA", "apparent_power"}, UnitClass{"var", "reactive_power"},
    UnitClass{"Hz", "frequency"},      UnitClass{"kHz", "frequency"},
    UnitClass{"lx", "illuminance"},    UnitClass{"dBm", "signal_strength"},
    UnitClass{"µg/m³", "pm25"},        UnitClass{"m³", "volume"},
    UnitClass{"L", "volume"},          UnitClass{"kg", "weight"},
    UnitClass{"g", "weight"},          UnitClass{"s", "duration"},
    UnitClass{"ms", "duration"},       UnitClass{"min", "duration"},
    UnitClass{"h", "duration"},        UnitClass{"m/s", "speed"},
    UnitClass{"km/h", "speed"},        UnitClass{"mm", "distance"},
    UnitClass{"cm", "distance"},       UnitClass{"m", "distance"},
    UnitClass{"km", "distance"},
};

constexpr std::string_view kSensor[]{"apparent_power",
                                     "aqi",
                                     "area",
                                     "atmospheric_pressure",
                                     "battery",
                                     "blood_glucose_concentration",
                                     "carbon_dioxide",
                                     "carbon_monoxide",
                                     "conductivity",
                                     "current",
                                     "data_rate",
                                     "data_size",
                                     "date",
                                     "distance",
                                     "duration",
                                     "energy",
                                     "energy_distance",
                                     "energy_storage",
                                     "enum",
                                     "frequency",
                                     "gas",
                                     "humidity",
                                     "illuminance",
                                     "irradiance",
                                     "moisture",
                                     "monetary",
                                     "nitrogen_dioxide",
                                     "nitrogen_monoxide",
                                     "nitrous_oxide",
                                     "ozone",
                                     "ph",
                                     "pm1",
                                     "pm10",
                                     "pm25",
                                     "power",
                                     "power_factor",
                                     "precipitation",
                                     "precipitation_intensity",
                                     "pressure",
                                     "reactive_energy",
                                     "reactive_power",
                                     "signal_strength",
                                     "sound_pressure",
                                     "speed",
                                     "sulphur_dioxide",
                                     "temperature",
                                     "timestamp",
                                     "volatile_organic_compounds",
                                     "volatile_organic_compounds_parts",
                                     "voltage",
                                     "volume",
                                     "volume_flow_rate",
                                     "volume_storage",
                                     "water",
                                     "weight",
                                     "wind_direction",
                                     "wind_speed",
                                     "absolute_humidity"};

constexpr std::string_view kBinarySensor[]{"battery",
                                           "battery_charging",
                                           "carbon_monoxide",
                                           "cold",
                                           "connectivity",
                                           "door",
                                           "garage_door",
                                           "gas",
                                           "heat",
                                           "light",
                                           "lock",
                                           "moisture",
                                           "motion",
                                           "moving",
                                           "occupancy",
                                           "opening",
                                           "plug",
                                           "power",
                                           "presence",
                                           "problem",
                                           "running",
                                           "safety",
                                           "smoke",
                                           "sound",
                                           "tamper",
                                           "update",
                                           "vibration",
                                           "window"};

template <std::size_t N>
bool contains(const std::string_view (&names)[N], std::string_view name) {
  return std::find(std::begin(names), std::end(names), name) != std::end(names);
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

}  // namespace

std::string_view sensor_device_class(std::string_view unit, std::string_view channel_name) noexcept {
  for (const auto& [u, device_class] : kUnits) {
    if (u == unit) {
      return device_class;
    }
  }
  const std::string name = lower(channel_name);
  if (unit == "%") {
    if (name == "h" || name == "rh" || name.starts_with("hum") || name.ends_with("humidity")) {
      return "humidity";
    }
    if (name.starts_with("bat")) {
      return "battery";
    }
    if (name.starts_with("moist") || name.starts_with("soil")) {
      return "moisture";
    }
    return {};
  }
  if (unit == "ppm" && name.find("co2") != std::string::npos) {
    return "carbon_dioxide";
  }
  return {};
}

bool is_total_device_class(std::string_view device_class) noexcept {
  return device_class == "energy" || device_class == "reactive_energy" || device_class == "gas" ||
         device_class == "water" || device_class == "monetary";
}

bool is_sensor_device_class(std::string_view name) noexcept {
  return contains(kSensor, name);
}

bool is_binary_sensor_device_class(std::string_view name) noexcept {
  return contains(kBinarySensor, name);
}

bool is_switch_device_class(std::string_view name) noexcept {
  return name == "outlet" || name == "switch";
}

bool is_device_class(std::string_view platform, std::string_view name) noexcept {
  if (platform == "sensor") {
    return is_sensor_device_class(name);
  }
  if (platform == "number") {
    return is_sensor_device_class(name) && name != "date" && name != "enum" && name != "timestamp";
  }
  if (platform == "binary_sensor") {
    return is_binary_sensor_device_class(name);
  }
  if (platform == "switch") {
    return is_switch_device_class(name);
  }
  if (platform == "button") {
    return name == "identify" || name == "restart" || name == "update";
  }
  return false;
}

}  // namespace fg::gateway::homeassistant
