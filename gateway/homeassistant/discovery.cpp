#include "gateway/homeassistant/discovery.hpp"

namespace fg::gateway::homeassistant {

using Json = nlohmann::json;

Discovery::Discovery(Identity identity, Diagnostics diagnostics, Lookup lookup, Publish publish)
    : identity_(std::move(identity)),
      diagnostics_(diagnostics),
      lookup_(std::move(lookup)),
      publish_(std::move(publish)) {}

std::vector<std::string> Discovery::subscriptions() const {
  return {identity_.ha_prefix + "/status", gateway_config_topic(identity_),
          identity_.ha_prefix + "/device/" + identity_.gateway + "/+/config"};
}

std::string Discovery::topic_of(const std::string& key) const {
  return key.empty() ? gateway_config_topic(identity_) : device_config_topic(identity_, key);
}

void Discovery::update(const std::vector<const devices::Device*>& devices) {
  std::map<std::string, Json, std::less<>> wanted;
  for (const devices::Device* device : devices) {
    wanted[device->name()] =
        device_config(identity_, device->name(), device->kind(), device->channels(), lookup_(device->name()));
  }
  if (diagnostics_.enabled) {
    wanted[""] = gateway_config(identity_, diagnostics_);
  }
  for (auto it = documents_.begin(); it != documents_.end();) {
    if (wanted.contains(it->first)) {
      ++it;
      continue;
    }
    if (connected_) {
      publish_(topic_of(it->first), "");
    }
    removed_.erase(it->first);
    it = documents_.erase(it);
  }
  for (auto& [key, json] : wanted) {
    auto [it, added] = documents_.try_emplace(key);
    if (!added) {
      remove_components(key, it->second.json["cmps"]);
    }
    it->second.json = std::move(json);
    publish(key, it->second, false);
  }
}

// The components of `old_cmps` (real ones, not removal entries) are to be removed in HA; publish() drops
// from that list every one the key's current document still has.
void Discovery::remove_components(const std::string& key, const Json& old_cmps) {
  if (!old_cmps.is_object()) {
    return;
  }
  for (const auto& [id, component] : old_cmps.items()) {
    if (component.is_object() && component.contains("p") && component["p"].is_string() &&
        component.size() > 1) {
      removed_[key][id] = component["p"].get<std::string>();
    }
  }
}

void Discovery::publish(const std::string& key, Document& document, bool force) {
  Json json = document.json;
  Json& cmps = json["cmps"];
  if (auto found = removed_.find(key); found != removed_.end()) {
    for (auto it = found->second.begin(); it != found->second.end();) {
      if (cmps.contains(it->first)) {
        it = found->second.erase(it);  // back again: no longer to be removed
        continue;
      }
      cmps[it->first] = Json{{"p", it->second}};
      ++it;
    }
  }
  std::string payload = json.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (!connected_ || (!force && payload == document.published)) {
    return;
  }
  document.published = std::move(payload);
  publish_(topic_of(key), document.published);
}

void Discovery::remove_all() {
  for (const auto& [key, document] : documents_) {
    if (connected_) {
      publish_(topic_of(key), "");
    }
  }
  documents_.clear();
  removed_.clear();
}

void Discovery::on_connected() {
  connected_ = true;
  for (auto& [key, document] : documents_) {
    publish(key, document, true);
  }
}

void Discovery::on_disconnected() {
  connected_ = false;
}

bool Discovery::on_message(std::string_view topic, std::string_view payload, bool retained) {
  if (topic == identity_.ha_prefix + "/status") {
    if (payload == "online" && connected_) {
      for (auto& [key, document] : documents_) {
        publish(key, document, true);
      }
    }
    return true;
  }
  // This gateway's own retained documents, as the broker kept them: from an earlier run, or our own.
  std::string key;
  if (topic == gateway_config_topic(identity_)) {
    key = "";
  } else {
    const std::string head = identity_.ha_prefix + "/device/" + identity_.gateway + "/";
    if (!topic.starts_with(head) || !topic.ends_with("/config")) {
      return false;
    }
    key = std::string(topic.substr(head.size(), topic.size() - head.size() - 7));
    if (key.empty() || key.find('/') != std::string::npos) {
      return false;
    }
  }
  // Live copies of what we publish, and removals, need nothing; only what the broker stored does.
  if (!retained || payload.empty() || !connected_) {
    return true;
  }
  auto document = documents_.find(key);
  if (document == documents_.end()) {
    publish_(std::string(topic), "");  // a device that left the config while the gateway was stopped
    return true;
  }
  Json stored = Json::parse(payload, nullptr, false);
  if (stored.is_object() && stored.contains("cmps")) {
    const std::size_t before = removed_[key].size();
    Json leftovers = Json::object();
    for (const auto& [id, component] : stored["cmps"].items()) {
      if (!document->second.json["cmps"].contains(id)) {
        leftovers[id] = component;
      }
    }
    remove_components(key, leftovers);
    if (removed_[key].size() != before) {
      publish(key, document->second, true);
    }
  }
  return true;
}

}  // namespace fg::gateway::homeassistant
