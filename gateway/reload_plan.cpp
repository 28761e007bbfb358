#include "gateway/reload_plan.hpp"

#include <algorithm>

#include <fmt/core.h>

namespace fg::gateway {
namespace {

constexpr const char* kRestart = "; restart fieldgate to apply it";

// The devices of one kind ([[serial]], ...). A device's own settings decide whether it is reopened; the
// gateway's payload form only changes how its next readings are published.
template <typename Section>
void compare_devices(const std::vector<Section>& running, const std::vector<Section>& next, ReloadPlan& plan) {
  auto find = [](const std::vector<Section>& sections, const std::string& name) -> const Section* {
    auto it = std::find_if(sections.begin(), sections.end(),
                           [&](const Section& s) { return s.device.name == name; });
    return it == sections.end() ? nullptr : &*it;
  };
  for (const Section& section : next) {
    const std::string& name = section.device.name;
    plan.order.push_back(name);
    const Section* before = find(running, name);
    if (before == nullptr) {
      plan.added.push_back(name);
    } else if (!(before->device == section.device)) {
      plan.changed.push_back(name);
    } else {
      plan.unchanged.push_back(name);
      if (before->payload != section.payload) {
        plan.payload_changed.push_back(name);
      }
    }
  }
  for (const Section& section : running) {
    if (find(next, section.device.name) == nullptr) {
      plan.removed.push_back(section.device.name);
    }
  }
}

// A device that moved to another kind (its name in [[gpio]] now, say) is one device reopened.
void pair_moved_devices(ReloadPlan& plan) {
  for (auto it = plan.added.begin(); it != plan.added.end();) {
    auto gone = std::find(plan.removed.begin(), plan.removed.end(), *it);
    if (gone == plan.removed.end()) {
      ++it;
      continue;
    }
    plan.removed.erase(gone);
    plan.changed.push_back(std::move(*it));
    it = plan.added.erase(it);
  }
}

template <typename T>
void refuse_change(const T& before, const T& after, const std::string& key, const std::string& why,
                   ReloadPlan& plan) {
  if (!(before == after)) {
    plan.refused.push_back({key, "cannot change while fieldgate runs (" + why + ")" + kRestart});
  }
}

// Which of [replication] can change live: only restore_timeout, which the next restore uses. The members,
// their addresses and key, and this member's state on disk make up the register; quorum/ has no protocol
// to change them under running operations, so a new set of them is a restart.
void compare_replication(const std::optional<ReplicationSection>& before,
                         const std::optional<ReplicationSection>& after, ReloadPlan& plan) {
  if (before.has_value() != after.has_value()) {
    plan.refused.push_back({"replication", std::string(after ? "cannot be added" : "cannot be removed") +
                                               " while fieldgate runs (it starts or ends this gateway's "
                                               "membership in the site's register)" +
                                               kRestart});
    return;
  }
  if (!before) {
    return;
  }
  const std::string members = "the site's register has fixed members while it runs";
  refuse_change(before->node, after->node, "replication.node", "it is this member's identity in the site",
                plan);
  refuse_change(before->listen, after->listen, "replication.listen", members, plan);
  refuse_change(before->peers, after->peers, "replication.peers", members, plan);
  refuse_change(before->key_file, after->key_file, "replication.key_file",
                "the site key authenticates every datagram in flight", plan);
  refuse_change(before->state_dir, after->state_dir, "replication.state_dir",
                "this member's durable state lives there", plan);
  const std::string fixed = "the register takes it when it opens";
  refuse_change(before->fsync, after->fsync, "replication.fsync", fixed, plan);
  refuse_change(before->min_interval, after->min_interval, "replication.min_interval", fixed, plan);
  refuse_change(before->timeout, after->timeout, "replication.timeout", fixed, plan);
  refuse_change(before->heartbeat, after->heartbeat, "replication.heartbeat", fixed, plan);
  refuse_change(before->drop_peers, after->drop_peers, "replication.drop_peers", fixed, plan);
  refuse_change(before->drop_large_to, after->drop_large_to, "replication.drop_large_to", fixed, plan);
  refuse_change(before->drop_large_for, after->drop_large_for, "replication.drop_large_for", fixed, plan);
}

// The session's options without what the gateway itself sets (will, birth) and without the outbox size,
// which is refused apart.
mqtt::Options connection_settings(const mqtt::Options& options) {
  mqtt::Options o = options;
  o.will.reset();
  o.birth.reset();
  o.outbox_limit = 0;
  o.spool = {};
  return o;
}

std::string names(const std::vector<std::string>& list) {
  std::string out;
  for (const auto& name : list) {
    out += (out.empty() ? "" : ", ") + name;
  }
  return out;
}

}  // namespace

ReloadPlan plan_reload(const Config& running, const Config& next) {
  ReloadPlan plan;
  const std::string topics = "every topic and register key of this gateway is made from it";
  refuse_change(running.gateway.id, next.gateway.id, "gateway.id", topics, plan);
  refuse_change(running.mqtt.prefix, next.mqtt.prefix, "mqtt.prefix", topics, plan);
  refuse_change(running.mqtt.session.outbox_limit, next.mqtt.session.outbox_limit, "mqtt.outbox",
                "the outbox holds the messages waiting for the broker", plan);
  const auto& spool_before = running.mqtt.session.spool;
  const auto& spool_after = next.mqtt.session.spool;
  const std::string spool = "the spool is opened with its settings when fieldgate starts";
  refuse_change(running.gateway.state_dir, next.gateway.state_dir, "gateway.state_dir", spool, plan);
  refuse_change(spool_before.enabled, spool_after.enabled, "mqtt.spool", spool, plan);
  refuse_change(spool_before.sync, spool_after.sync, "mqtt.spool_sync", spool, plan);
  refuse_change(spool_before.mode, spool_after.mode, "mqtt.spool_mode", spool, plan);
  refuse_change(spool_before.max_bytes, spool_after.max_bytes, "mqtt.spool_max", spool, plan);
  refuse_change(running.control.socket, next.control.socket, "control.socket",
                "`fieldgate reload` itself comes through it", plan);
  compare_replication(running.replication, next.replication, plan);
  const std::string discovery = "Home Assistant discovery is set up with it at start";
  refuse_change(running.homeassistant.enabled, next.homeassistant.enabled, "homeassistant.enabled", discovery,
                plan);
  refuse_change(running.homeassistant.prefix, next.homeassistant.prefix, "homeassistant.prefix", discovery,
                plan);
  // A new interval applies; turning the metrics on or off would add or remove Home Assistant's
  // diagnostics device, which is set up at start.
  refuse_change(running.mqtt.metrics_interval.count() == 0, next.mqtt.metrics_interval.count() == 0,
                "mqtt.metrics_interval", "turning the metrics on or off; " + discovery, plan);

  // One line per kind of device, as in build_devices() (gateway/devices_factory.cpp).
  compare_devices(running.serial, next.serial, plan);
  compare_devices(running.gpio, next.gpio, plan);
  pair_moved_devices(plan);

  plan.mqtt_session_changed =
      !(connection_settings(running.mqtt.session) == connection_settings(next.mqtt.session));
  plan.mqtt_publishing_changed = running.mqtt.qos != next.mqtt.qos || running.mqtt.retain != next.mqtt.retain;
  plan.log_level_changed = running.gateway.log_level != next.gateway.log_level;
  plan.metrics_interval_changed = running.mqtt.metrics_interval != next.mqtt.metrics_interval;
  return plan;
}

std::string ReloadPlan::summary() const {
  std::string out = fmt::format("devices: {} unchanged", unchanged.size());
  for (const auto& [list, what] : {std::pair{&added, "added"}, std::pair{&removed, "removed"},
                                   std::pair{&changed, "reopened"}}) {
    if (!list->empty()) {
      out += fmt::format(", {} {} ({})", list->size(), what, names(*list));
    }
  }
  if (!payload_changed.empty()) {
    out += fmt::format(", payload form changed for {}", names(payload_changed));
  }
  if (mqtt_publishing_changed) {
    out += "; readings' qos or retain changed";
  }
  if (log_level_changed) {
    out += "; log level changed";
  }
  return out;
}

}  // namespace fg::gateway
