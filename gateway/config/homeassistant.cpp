// [homeassistant], and the per-entity overrides of Home Assistant discovery: the `homeassistant` table of
// a [serial.channels.NAME], and the [gpio.homeassistant.ENTITY] tables of a [[gpio]] entry. Both read
// the same four keys (docs/home-assistant.md).

#include <algorithm>

#include "devices/gpio/gpio_device.hpp"
#include "gateway/config/sections.hpp"
#include "gateway/homeassistant/device_class.hpp"
#include "gateway/homeassistant/documents.hpp"

namespace fg::gateway::config_detail {
namespace {

// One entity's overrides; device_class is checked against HA's list for the platform the entity is on,
// since HA rejects the whole device's document for one unknown class.
void read_entity_overrides(TableReader& table, std::string_view platform, homeassistant::ChannelOptions& out) {
  if (auto name = table.string("name")) {
    if (name->empty()) {
      table.error("name", "must not be empty (leave it out for the channel's name)");
    } else {
      out.name = *name;
    }
  }
  if (auto device_class = table.string("device_class")) {
    if (!device_class->empty() && !homeassistant::is_device_class(platform, *device_class)) {
      table.error("device_class", "Home Assistant has no " + std::string(platform) + " device class " +
                                      quote(*device_class) + " (\"\" for none)");
    } else {
      out.device_class = *device_class;
    }
  }
  if (auto icon = table.string("icon")) {
    if (icon->find(':') == std::string::npos) {
      table.error("icon", "must be an icon name with its set, such as \"mdi:thermometer\", got " + quote(*icon));
    } else {
      out.icon = *icon;
    }
  }
  if (auto enabled = table.boolean("enabled_by_default")) {
    out.enabled_by_default = *enabled;
  }
}

}  // namespace

void read_homeassistant(TableReader& table, homeassistant::Settings& out) {
  if (auto enabled = table.boolean("enabled")) {
    out.enabled = *enabled;
  }
  if (auto prefix = read_topic_prefix(table)) {
    out.prefix = *prefix;
  }
}

void read_channel_homeassistant(TableReader& channel, const devices::serial::ChannelSettings& settings,
                                homeassistant::ChannelOptions& out) {
  // A set_format the config writes makes the channel a control; the default one does not (options.hpp).
  out.control = channel.has("set_format") && !settings.set_format.empty();
  if (!channel.has("homeassistant")) {
    return;
  }
  auto table = channel.subtable("homeassistant");
  if (!table) {
    return;
  }
  using ValueKind = devices::serial::ValueKind;
  devices::ChannelInfo info;
  info.kind = settings.spec.kind == ValueKind::boolean ? devices::ChannelInfo::Kind::boolean
              : settings.spec.kind == ValueKind::text  ? devices::ChannelInfo::Kind::text
                                                       : devices::ChannelInfo::Kind::number;
  read_entity_overrides(*table, homeassistant::platform_of(info, out.control), out);
  table->finish();
}

void read_gpio_homeassistant(TableReader& device, devices::gpio::Mode mode, std::string_view mode_name,
                             homeassistant::DeviceOptions& out) {
  if (!device.has("homeassistant")) {
    return;
  }
  auto table = device.subtable("homeassistant");
  if (!table) {
    return;
  }
  // The entities of this mode: one per channel, and "pulse" for the button of an output.
  const std::vector<devices::ChannelInfo> channels = devices::gpio::mode_channels(mode);
  std::string entities;
  for (const auto& channel : channels) {
    entities += (entities.empty() ? "" : ", ") + quote(channel.name);
    if (channel.pulse && channel.settable) {
      entities += ", " + quote("pulse");
    }
  }
  for (const auto& [key, node] : table->table()) {
    const std::string name(key.str());
    const devices::ChannelInfo* channel = nullptr;
    bool button = false;  // the "pulse" entity: the button of channel
    for (const auto& c : channels) {
      if (c.name == name) {
        channel = &c;
      } else if (name == "pulse" && c.pulse && c.settable) {
        channel = &c;
        button = true;
      }
    }
    if (channel == nullptr) {
      table->find(name);  // reported here, not again as an unknown key
      const bool entity_key = name == "name" || name == "device_class" || name == "icon" ||
                              name == "enabled_by_default";
      const std::string mode_entities = "mode = \"" + std::string(mode_name) + "\" has the entities " + entities;
      table->error(name, entity_key ? "goes in the table of the entity it is for, such as [gpio.homeassistant." +
                                          channels.front().name + "]; " + mode_entities
                                    : "not an entity of this device; " + mode_entities);
      continue;
    }
    auto entity = table->subtable(name);
    if (!entity) {
      continue;
    }
    // A GPIO device's settable channel is a control (DeviceOptions::settable_is_control).
    if (button) {
      read_entity_overrides(*entity, "button", out.pulse_buttons[channel->name]);
    } else {
      read_entity_overrides(*entity, homeassistant::platform_of(*channel, channel->settable), out.channels[name]);
    }
    entity->finish();
  }
  table->finish();
}

}  // namespace fg::gateway::config_detail

namespace fg::gateway {

homeassistant::DeviceOptions homeassistant_options(const Config& config, std::string_view device) {
  homeassistant::DeviceOptions options;
  const auto named = [device](const auto& section) { return section.device.name == device; };
  if (auto serial = std::find_if(config.serial.begin(), config.serial.end(), named);
      serial != config.serial.end()) {
    options.raw_payload = serial->payload == PayloadForm::raw;
    options.channels = serial->homeassistant;
    options.settable_is_control = false;  // every serial channel takes /set by default (options.hpp)
  } else if (auto gpio = std::find_if(config.gpio.begin(), config.gpio.end(), named); gpio != config.gpio.end()) {
    // A GPIO output or PWM channel is settable because it is one: a control (the default
    // settable_is_control).
    options = gpio->homeassistant;
    options.raw_payload = gpio->payload == PayloadForm::raw;
  }
  return options;
}

}  // namespace fg::gateway
