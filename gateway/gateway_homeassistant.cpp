// Gateway's side of Home Assistant discovery (gateway/homeassistant/) and of the retained metrics
// message that the diagnostics device shows.

#include "gateway/gateway.hpp"
#include "gateway/log.hpp"
#include "gateway/version.hpp"

namespace fg::gateway {

void Gateway::start_homeassistant() {
  if (!config_.homeassistant.enabled) {
    return;
  }
  homeassistant::Identity identity{config_.homeassistant.prefix, config_.mqtt.prefix, config_.gateway.id,
                                   kVersion};
  // The diagnostics device shows the metrics message, so it comes with it.
  homeassistant::Diagnostics diagnostics{.enabled = config_.mqtt.metrics_interval.count() != 0,
                                         .replication = config_.replication.has_value(),
                                         .spool = spool_ && spool_->spool() != nullptr};
  auto lookup = [this](std::string_view device) { return homeassistant_options(config_, device); };
  auto publish = [this](const std::string& topic, const std::string& payload) {
    session_->publish(topic, payload, mqtt::Qos::at_least_once, true);
  };
  discovery_.emplace(std::move(identity), diagnostics, std::move(lookup), std::move(publish));
  for (const auto& filter : discovery_->subscriptions()) {
    session_->subscribe(filter, mqtt::Qos::at_least_once);
  }
  discovery_->update(device_list());
}

std::vector<const devices::Device*> Gateway::device_list() const {
  std::vector<const devices::Device*> out;
  for (const auto& device : devices_) {
    out.push_back(device.get());
  }
  return out;
}

void Gateway::start_metrics() {
  if (config_.mqtt.metrics_interval.count() == 0) {
    return;
  }
  metrics_timer_.start(
      config_.mqtt.metrics_interval, [this] { publish_metrics(); }, config_.mqtt.metrics_interval);
}

void Gateway::publish_metrics() {
  if (!session_ || stopping_ || config_.mqtt.metrics_interval.count() == 0) {
    return;
  }
  session_->publish(topics_.metrics(),
                    status_json().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                    mqtt::Qos::at_least_once, true);
}

}  // namespace fg::gateway
