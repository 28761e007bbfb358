#pragma once
// The discovery documents Home Assistant reads (device-based discovery, HA 2024.11 and later): one
// retained JSON object per device with the device (`dev`), the origin (`o`), the availability and the
// components (`cmps`), one per channel. Pure functions of the device's channels and the config, so the
// tests check them without a broker; discovery.hpp publishes them. docs/home-assistant.md shows them.
//
// Topics: <ha>/device/<gateway>/<device>/config per device, <ha>/device/<gateway>/config for the gateway's
// diagnostics device. HA's optional node_id level (<gateway>) keeps two gateways' devices apart even when
// their names contain '_' (a "<gateway>_<device>" object id would make gateway "a" device "b_c" and
// gateway "a_b" device "c" the same topic).
//
// Ids: device identifiers and unique_ids are built from the gateway id, the device name and the channel
// name joined by '/', which none of the first two may contain: stable across restarts and across a new
// [mqtt] prefix (only the state and command topics change), and never equal for two different channels.

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "devices/device.hpp"
#include "gateway/homeassistant/options.hpp"

namespace fg::gateway::homeassistant {

// Who publishes: the topic prefixes and the gateway's id, and its version for `sw`.
struct Identity {
  std::string ha_prefix = "homeassistant";
  std::string mqtt_prefix = "fieldgate";
  std::string gateway;
  std::string version;
};

std::string device_config_topic(const Identity& id, std::string_view device);
std::string gateway_config_topic(const Identity& id);
std::string unique_id(std::string_view gateway, std::string_view device, std::string_view channel);
// The key of a channel's component in `cmps`: the channel name with every character outside
// [A-Za-z0-9_-] replaced by '_' (HA uses it in the entity's discovery id).
std::string component_id(std::string_view channel);

// The HA platform a channel becomes: "binary_sensor" or "switch" (boolean), "sensor" or "number" (number),
// "sensor" (text), "button" (a channel that is pulsed and not set). control: it is a switch or a number
// rather than a reading (DeviceOptions::settable_is_control says when).
std::string_view platform_of(const devices::ChannelInfo& channel, bool control);

// What the channel becomes in HA, and the component's options (without the shared ones). A channel that
// is both settable and pulsed (a GPIO output) also gets a button, `<component id>_pulse`, from
// device_config().
nlohmann::json channel_component(const Identity& id, std::string_view device,
                                 const devices::ChannelInfo& channel, const DeviceOptions& options);

// The whole document for one device. `kind` is Device::kind() ("serial"), shown as the model.
nlohmann::json device_config(const Identity& id, std::string_view device, std::string_view kind,
                             const std::vector<devices::ChannelInfo>& channels, const DeviceOptions& options);

// What the gateway's diagnostics device shows (the metrics document's keys, docs/topics.md).
struct Diagnostics {
  bool enabled = true;       // off without the metrics message ([mqtt] metrics_interval = "0s")
  bool replication = false;  // replication peers up
  bool spool = false;        // spool depth ([mqtt] spool on)
};
nlohmann::json gateway_config(const Identity& id, const Diagnostics& diagnostics);

}  // namespace fg::gateway::homeassistant
