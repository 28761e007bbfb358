// Gateway's reload (SIGHUP, `systemctl reload`, `fieldgate reload`): the config file is read again and
// checked as `fieldgate check` checks it; a config with errors, or one that changes a setting that cannot
// change live (ReloadPlan), changes nothing. Otherwise what changed is applied: the MQTT session first
// (it can still refuse, and then nothing has changed), then the devices, then the log level.
// docs/configuration.md ("Reloading the configuration") is the user's side of it.

#include <toml++/toml.h>

#include <algorithm>
#include <unordered_map>

#include <fmt/core.h>

#include "gateway/devices_factory.hpp"
#include "gateway/gateway.hpp"
#include "gateway/log.hpp"

namespace fg::gateway {
namespace {

// A refused setting as a config issue: at the key's place in the file, as `fieldgate check` names
// problems; without a place when the key is not in the file (back to its default).
ConfigIssue refusal_issue(const std::string& file, const ReloadPlan::Refusal& refusal) {
  ConfigIssue issue{file, 0, 0, refusal.key, refusal.message};
  try {
    const toml::table document = toml::parse_file(file);
    if (const toml::node* node = document.at_path(refusal.key).node()) {
      issue.line = node->source().begin.line;
      issue.column = node->source().begin.column;
    }
  } catch (const toml::parse_error&) {
    // The file changed again since it was read: the issue goes without a place.
  }
  return issue;
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

Gateway::ReloadResult Gateway::reload() {
  ReloadResult result;
  if (stopping_) {
    result.errors.push_back("fieldgate is stopping");
    return result;
  }
  notify_.reloading();
  log(LogLevel::notice, "reloading {}", config_.source);
  auto next = load_config(config_.source);
  if (!next) {
    for (const ConfigIssue& issue : next.error()) {
      result.errors.push_back(issue.format());
    }
  } else {
    const ReloadPlan plan = plan_reload(config_, *next);
    for (const auto& refusal : plan.refused) {
      result.errors.push_back(refusal_issue(config_.source, refusal).format());
    }
    if (plan.refused.empty()) {
      apply_reload(plan, std::move(*next), result);
    }
  }
  for (const auto& error : result.errors) {
    log(LogLevel::error, "{}", error);
  }
  if (result.applied) {
    log(LogLevel::notice, "reloaded {}: {}", config_.source, result.summary);
  } else {
    log(LogLevel::error, "reload refused: the running configuration stays");
  }
  notify_.ready();
  update_status();
  return result;
}

void Gateway::apply_reload(const ReloadPlan& plan, Config next, ReloadResult& result) {
  Config running = std::exchange(config_, std::move(next));
  // Always offered to the session: it also notices a password file whose content changed.
  auto reconnects = session_->reconfigure(session_options());
  if (!reconnects) {
    config_ = std::move(running);
    result.errors.push_back(config_.source + ": mqtt: the session refuses the new settings: " +
                            reconnects.error().message());
    return;
  }
  result.applied = true;
  result.summary = plan.summary();
  if (*reconnects) {
    result.summary += fmt::format("; MQTT reconnects to {}:{}", config_.mqtt.session.host,
                                  config_.mqtt.session.port);
  }
  auto follow_payload = [&](const auto& sections) {
    for (const auto& section : sections) {
      if (contains(plan.payload_changed, section.device.name)) {
        routes_[section.device.name].payload = section.payload;
      }
    }
  };
  follow_payload(config_.serial);
  follow_payload(config_.gpio);
  reload_devices(plan, result);
  // Also when no device came or went: a channel's [homeassistant] overrides or a payload form may have
  // changed the discovery documents (update() publishes only what changed).
  after_devices_changed();
  if (plan.metrics_interval_changed) {
    metrics_timer_.stop();
    start_metrics();
  }
  if (plan.log_level_changed) {
    set_log_level(config_.gateway.log_level);
    follow_log_level();
  }
}

void Gateway::reload_devices(const ReloadPlan& plan, ReloadResult& result) {
  if (!plan.devices_changed()) {
    return;
  }
  const std::vector<DesiredState> reopened_states = desired_states(plan.changed);
  // Closed first, so that a reopened device finds its port free (ports are opened exclusively). A removed
  // device says offline; a reopened one says its new state itself.
  std::erase_if(devices_, [&](const std::unique_ptr<devices::Device>& device) {
    const bool removed = contains(plan.removed, device->name());
    if (removed) {
      session_->publish(topics_.device_status(device->name()), "offline", mqtt::Qos::at_least_once, true);
    }
    return removed || contains(plan.changed, device->name());
  });
  auto built = build_devices(
      loop_, config_,
      [this](const std::string& device, PayloadForm payload) { return make_sink(device, payload); },
      [&](const std::string& name) { return contains(plan.added, name) || contains(plan.changed, name); });
  if (!built) {
    // Only a device whose path cannot even be watched; the others of this reload are applied.
    log(LogLevel::error, "{}", built.error());
    result.errors.push_back(built.error());
  } else {
    for (auto& device : *built) {
      if (inputs_paused_) {
        device->pause_input(true);
      }
      devices_.push_back(std::move(device));
      publish_device_status(*devices_.back());
    }
  }
  // A reopened device takes over the desired states of the one it replaces at once (no relay falls back
  // to its initial state because a setting of its device changed, with or without the register). An added
  // one takes its states from the register before its commands are applied, as every device does at
  // start. (While the register waits for the clock, it restores every device when it opens.)
  take_over(reopened_states);
  if (replication_) {
    restore_outputs([&](const std::string& name) { return contains(plan.added, name); });
  }
  // The config's order, as at start (status, counters).
  std::unordered_map<std::string, std::size_t> rank;
  for (std::size_t i = 0; i < plan.order.size(); ++i) {
    rank.emplace(plan.order[i], i);
  }
  std::stable_sort(devices_.begin(), devices_.end(), [&](const auto& a, const auto& b) {
    return rank[a->name()] < rank[b->name()];
  });
}

std::vector<Gateway::DesiredState> Gateway::desired_states(const std::vector<std::string>& names) const {
  std::vector<DesiredState> states;
  for (const auto& device : devices_) {
    if (!contains(names, device->name())) {
      continue;
    }
    for (const auto& channel : device->channels()) {
      if (std::string state = channel.settable ? device->desired_state(channel.name) : ""; !state.empty()) {
        states.push_back({device->name(), channel.name, std::move(state)});
      }
    }
  }
  return states;
}

void Gateway::take_over(const std::vector<DesiredState>& states) {
  for (const auto& [name, channel, state] : states) {
    devices::Device* device = find_device(name);
    if (device == nullptr) {
      continue;  // its path could not be watched: the reload's error says so
    }
    if (auto ec = device->accept(devices::Command{devices::CommandKind::set, channel, state})) {
      // The new settings may have taken the channel away (a line that became an input).
      log(LogLevel::notice, "{}: {} = {} not kept after the reload: {}", name, channel, state, ec.message());
    }
  }
}

// The one place to tell the parts that follow the device list that it changed. Home Assistant discovery
// republishes the documents that changed (new and reopened devices, a channel's changed overrides) and
// removes those of devices gone; it publishes nothing when nothing changed, so it runs after every reload.
void Gateway::after_devices_changed() {
  if (discovery_) {
    discovery_->update(device_list());
  }
}

}  // namespace fg::gateway
