#pragma once
// What the config says about a device for Home Assistant discovery ([homeassistant], the `homeassistant`
// table of a [serial.channels.NAME] and the [gpio.homeassistant.ENTITY] tables): the part of discovery a
// user may choose. The rest
// (the component, the device class from the unit, the topics) discovery derives (discovery.hpp).

#include <map>
#include <optional>
#include <string>

namespace fg::gateway::homeassistant {

// [homeassistant]
struct Settings {
  bool enabled = true;                   // discovery is harmless to subscribers that are not HA
  std::string prefix = "homeassistant";  // HA's discovery_prefix: no + or #, no leading or trailing /
};

// [serial.channels.NAME.homeassistant] or [gpio.homeassistant.ENTITY]: each unset key takes what discovery
// derives.
struct ChannelOptions {
  std::optional<std::string> name;          // the entity's name; default: the channel's name
  std::optional<std::string> device_class;  // "" for none; default: from the unit (and the name)
  std::optional<std::string> icon;          // "mdi:thermometer"; default: HA's for the device class
  std::optional<bool> enabled_by_default;   // false: the entity starts disabled in HA
  // Set from the config, not a key of the table: the channel is a control (a switch, a number) rather
  // than a reading only. See DeviceOptions::settable_is_control.
  bool control = false;

  bool operator==(const ChannelOptions&) const = default;
};

// One device's options, as discovery looks them up by the device's name.
struct DeviceOptions {
  bool raw_payload = false;  // payload = "raw": the value alone, so no value_json in the templates
  std::map<std::string, ChannelOptions, std::less<>> channels;  // by channel name
  // The button of a channel that is both set and pulsed (a GPIO output's "pulse" entity), by channel
  // name. Its name defaults to the channel's (overridden) name and " pulse".
  std::map<std::string, ChannelOptions, std::less<>> pulse_buttons;
  // Whether devices::ChannelInfo::settable makes a channel a control. A serial channel takes /set by
  // default (set_format "{channel}={value}"), and a thermometer that accepts "t=..." is still a
  // thermometer: for serial devices only a set_format written in the config makes a control
  // (ChannelOptions::control), so this is false for them. A GPIO output is settable because it is one.
  bool settable_is_control = true;

  bool operator==(const DeviceOptions&) const = default;
};

}  // namespace fg::gateway::homeassistant
