// [homeassistant], and the `homeassistant` table of a [serial.channels.NAME]: how discovery presents the
// gateway's devices to Home Assistant (docs/home-assistant.md).

#include "gateway/config/sections.hpp"
#include "gateway/homeassistant/device_class.hpp"

namespace fg::gateway::config_detail {

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
  if (auto name = table->string("name")) {
    if (name->empty()) {
      table->error("name", "must not be empty (leave it out for the channel's name)");
    } else {
      out.name = *name;
    }
  }
  if (auto device_class = table->string("device_class")) {
    const bool boolean = settings.spec.kind == devices::serial::ValueKind::boolean;
    const char* platform =
        boolean ? (out.control ? "switch" : "binary_sensor") : (out.control ? "number" : "sensor");
    const bool known = device_class->empty() ||
                       (boolean ? (out.control ? homeassistant::is_switch_device_class(*device_class)
                                               : homeassistant::is_binary_sensor_device_class(*device_class))
                                : homeassistant::is_sensor_device_class(*device_class));
    if (!known) {
      table->error("device_class", "Home Assistant has no " + std::string(platform) + " device class " +
                                       quote(*device_class) + " (\"\" for none)");
    } else {
      out.device_class = *device_class;
    }
  }
  if (auto icon = table->string("icon")) {
    if (icon->find(':') == std::string::npos) {
      table->error("icon",
                   "must be an icon name with its set, such as \"mdi:thermometer\", got " + quote(*icon));
    } else {
      out.icon = *icon;
    }
  }
  if (auto enabled = table->boolean("enabled_by_default")) {
    out.enabled_by_default = *enabled;
  }
  table->finish();
}

}  // namespace fg::gateway::config_detail
