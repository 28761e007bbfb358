#include "gateway/homeassistant/documents.hpp"

#include "gateway/homeassistant/device_class.hpp"
#include "gateway/topics.hpp"

namespace fg::gateway::homeassistant {
namespace {

using Json = nlohmann::json;
using Kind = devices::ChannelInfo::Kind;

constexpr const char* kUrl = "https://github.com/fieldgate/fieldgate";

std::string gateway_identifier(const Identity& id) {
  return "fieldgate/" + id.gateway;
}

Json origin(const Identity& id) {
  return {{"name", "fieldgate"}, {"sw", id.version}, {"url", kUrl}};
}

// Booleans arrive as JSON true/false (or the text true/false with payload = "raw"); HA's binary_sensor
// and switch compare the template's result with "ON" / "OFF".
std::string value_template(const DeviceOptions& options, Kind kind) {
  if (kind == Kind::boolean) {
    return options.raw_payload ? "{{ 'ON' if value == 'true' else 'OFF' }}"
                               : "{{ 'ON' if value_json.value else 'OFF' }}";
  }
  return options.raw_payload ? "{{ value }}" : "{{ value_json.value }}";
}

void apply_overrides(Json& component, const ChannelOptions* overrides) {
  if (overrides == nullptr) {
    return;
  }
  if (overrides->name) {
    component["name"] = *overrides->name;
  }
  if (overrides->device_class) {
    if (overrides->device_class->empty()) {
      component.erase("device_class");
    } else {
      component["device_class"] = *overrides->device_class;
    }
  }
  if (overrides->icon) {
    component["icon"] = *overrides->icon;
  }
  if (overrides->enabled_by_default) {
    component["enabled_by_default"] = *overrides->enabled_by_default;
  }
}

}  // namespace

std::string device_config_topic(const Identity& id, std::string_view device) {
  return id.ha_prefix + "/device/" + id.gateway + "/" + std::string(device) + "/config";
}

std::string gateway_config_topic(const Identity& id) {
  return id.ha_prefix + "/device/" + id.gateway + "/config";
}

std::string unique_id(std::string_view gateway, std::string_view device, std::string_view channel) {
  return "fieldgate/" + std::string(gateway) + "/" + std::string(device) + "/" + std::string(channel);
}

std::string component_id(std::string_view channel) {
  std::string out(channel);
  for (char& c : out) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) {
      c = '_';
    }
  }
  return out;
}

namespace {

Json pulse_component(Json c, const std::string& state_topic) {
  // Pressing the button pulses the output for its configured duration (an empty payload).
  c["p"] = "button";
  c["command_topic"] = state_topic + "/pulse";
  c["payload_press"] = "";
  return c;
}

}  // namespace

std::string_view platform_of(const devices::ChannelInfo& channel, bool control) {
  if (channel.pulse && !channel.settable) {
    return "button";
  }
  switch (channel.kind) {
    case Kind::boolean: return control ? "switch" : "binary_sensor";
    case Kind::text: return "sensor";
    case Kind::number: return control ? "number" : "sensor";
  }
  return "sensor";
}

Json channel_component(const Identity& id, std::string_view device, const devices::ChannelInfo& channel,
                       const DeviceOptions& options) {
  const Topics topics(id.mqtt_prefix, id.gateway);
  const std::string state_topic = topics.reading(device, channel.name);
  const auto found = options.channels.find(channel.name);
  const ChannelOptions* overrides = found == options.channels.end() ? nullptr : &found->second;
  const bool control = overrides != nullptr && overrides->control ? true
                       : options.settable_is_control              ? channel.settable
                                                                  : false;
  Json c{{"name", channel.name}, {"unique_id", unique_id(id.gateway, device, channel.name)}};
  const std::string_view platform = platform_of(channel, control);
  if (platform == "button") {
    apply_overrides(c, overrides);
    return pulse_component(std::move(c), state_topic);
  }
  c["state_topic"] = state_topic;
  c["value_template"] = value_template(options, channel.kind);
  if (channel.kind == Kind::boolean) {
    c["p"] = platform;
    if (control) {
      c["command_topic"] = state_topic + "/set";
      c["payload_on"] = "on";
      c["payload_off"] = "off";
      c["state_on"] = "ON";
      c["state_off"] = "OFF";
    }
    apply_overrides(c, overrides);
    return c;
  }
  if (channel.kind == Kind::text) {
    c["p"] = platform;
    apply_overrides(c, overrides);
    return c;
  }
  const std::string_view device_class = sensor_device_class(channel.unit, channel.name);
  if (!device_class.empty()) {
    c["device_class"] = device_class;
  }
  if (!channel.unit.empty()) {
    c["unit_of_measurement"] = channel.unit;
  }
  if (control) {
    // A numeric output (a PWM duty, a set point): a number entity. HA's default range is 1..100;
    // a percentage gets a 0..100 slider, anything else a box without a practical limit.
    c["p"] = "number";
    c["command_topic"] = state_topic + "/set";
    c["min"] = 0;
    if (channel.unit == "%") {
      c["max"] = 100;
    } else {
      c["min"] = -1e9;
      c["max"] = 1e9;
      c["step"] = 0.001;
      c["mode"] = "box";
    }
  } else {
    c["p"] = "sensor";
    c["state_class"] = channel.counter                       ? "total_increasing"
                       : is_total_device_class(device_class) ? "total"
                                                             : "measurement";
  }
  apply_overrides(c, overrides);
  // An override may name a total class ("energy") for a channel whose unit did not imply it.
  if (c.contains("state_class") && c["state_class"] == "measurement" && c.contains("device_class") &&
      is_total_device_class(c["device_class"].get<std::string>())) {
    c["state_class"] = "total";
  }
  return c;
}

Json device_config(const Identity& id, std::string_view device, std::string_view kind,
                   const std::vector<devices::ChannelInfo>& channels, const DeviceOptions& options) {
  const Topics topics(id.mqtt_prefix, id.gateway);
  Json cmps = Json::object();
  // Two names that differ only in characters HA does not take ("a.b", "a:b") still get two entities.
  const auto free_key = [&cmps](const std::string& wanted) {
    std::string key = wanted;
    for (int n = 2; cmps.contains(key); ++n) {
      key = wanted + "_" + std::to_string(n);
    }
    return key;
  };
  for (const auto& channel : channels) {
    Json component = channel_component(id, device, channel, options);
    const bool also_pulse = channel.pulse && component["p"] != "button";
    const std::string name = component["name"].get<std::string>();
    cmps[free_key(component_id(channel.name))] = std::move(component);
    if (also_pulse) {
      // An output that is set and also pulsed (a GPIO output): a switch and a button, named after the
      // switch unless the button's own overrides name it.
      Json pulse{{"name", name + " pulse"},
                 {"unique_id", unique_id(id.gateway, device, channel.name) + "/pulse"}};
      const auto found = options.pulse_buttons.find(channel.name);
      apply_overrides(pulse, found == options.pulse_buttons.end() ? nullptr : &found->second);
      cmps[free_key(component_id(channel.name) + "_pulse")] =
          pulse_component(std::move(pulse), topics.reading(device, channel.name));
    }
  }
  return Json{
      {"dev",
       {{"ids", Json::array({gateway_identifier(id) + "/" + std::string(device)})},
        {"name", std::string(device)},
        {"mdl", std::string(kind) + " device"},
        {"mf", "fieldgate"},
        {"sw", id.version},
        {"via_device", gateway_identifier(id)}}},
      {"o", origin(id)},
      // Unavailable in HA when the gateway is gone or the device's port is closed (unplugged).
      {"availability",
       Json::array({{{"topic", topics.gateway_status()}}, {{"topic", topics.device_status(device)}}})},
      {"availability_mode", "all"},
      {"qos", 1},
      {"cmps", std::move(cmps)},
  };
}

Json gateway_config(const Identity& id, const Diagnostics& diagnostics) {
  const Topics topics(id.mqtt_prefix, id.gateway);
  Json cmps = Json::object();
  auto add = [&](const std::string& key, const std::string& name, const std::string& value, Json extra) {
    Json c{{"p", "sensor"},
           {"name", name},
           {"unique_id", gateway_identifier(id) + "/" + key},
           {"entity_category", "diagnostic"},
           {"value_template", "{{ value_json." + value + " }}"}};
    c.update(extra);
    cmps[key] = std::move(c);
  };
  add("uptime", "Uptime", "uptime_s",
      {{"device_class", "duration"}, {"unit_of_measurement", "s"}, {"state_class", "measurement"}});
  add("readings_per_min", "Readings per minute", "readings_per_min",
      {{"unit_of_measurement", "readings/min"}, {"state_class", "measurement"}, {"icon", "mdi:chart-line"}});
  add("dropped", "Dropped", "dropped", {{"state_class", "total_increasing"}, {"icon", "mdi:delete-alert"}});
  add("broker_reconnects", "Broker reconnects", "mqtt.reconnects",
      {{"state_class", "total_increasing"}, {"icon", "mdi:lan-disconnect"}});
  if (diagnostics.replication) {
    add("peers_up", "Replication peers up", "peers_up",
        {{"state_class", "measurement"}, {"icon", "mdi:server-network"}});
  }
  if (diagnostics.spool) {
    add("spool_depth", "Spool depth", "spool.depth",
        {{"state_class", "measurement"}, {"icon", "mdi:tray-full"}});
  }
  return Json{
      {"dev",
       {{"ids", Json::array({gateway_identifier(id)})},
        {"name", "fieldgate " + id.gateway},
        {"mdl", "gateway"},
        {"mf", "fieldgate"},
        {"sw", id.version}}},
      {"o", origin(id)},
      {"availability", Json::array({{{"topic", topics.gateway_status()}}})},
      {"state_topic", topics.metrics()},
      {"qos", 1},
      {"cmps", std::move(cmps)},
  };
}

}  // namespace fg::gateway::homeassistant
