#pragma once
// Discovery: keeps Home Assistant's picture of this gateway's devices right, whatever happened to the
// broker, to HA or to the config (docs/home-assistant.md).
//
//   - update(devices) publishes the retained discovery document of each device (documents.hpp) whose
//     document changed, and an empty retained payload for each device that is gone, which makes HA remove
//     it. Idempotent: calling it again with the same devices publishes nothing. The gateway calls it at
//     start, and a live reload calls it with the devices of the new config.
//   - A channel that leaves a device is removed from HA too: the device's next documents carry its
//     component with the platform alone ({"p": "sensor"}), HA's way to remove one component of a device.
//   - Heals: on every connect it publishes every document again (a broker without persistence lost them);
//     when HA says `online` on <ha>/status (HA restarted) likewise; and it reads back its own retained
//     documents (subscriptions()), so a document left by an earlier run for a device or a channel that
//     is no longer in the config is removed even after a restart with a smaller config, without any state
//     on the gateway's disk.
//
// Publishing goes through the Publish callback (retained, QoS 1); while the session is not connected
// nothing is published, as on_connected() sends everything anyway.

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "devices/device.hpp"
#include "gateway/homeassistant/documents.hpp"
#include "gateway/homeassistant/options.hpp"

namespace fg::gateway::homeassistant {

class Discovery {
 public:
  // Publishes a retained message at QoS 1; an empty payload removes the retained one.
  using Publish = std::function<void(const std::string& topic, const std::string& payload)>;
  // The config's options for a device (its payload form, its channels' overrides).
  using Lookup = std::function<DeviceOptions(std::string_view device)>;

  Discovery(Identity identity, Diagnostics diagnostics, Lookup lookup, Publish publish);

  // The topics to subscribe to: HA's status and this gateway's own discovery documents.
  std::vector<std::string> subscriptions() const;

  // The devices now served (by the gateway, in its order); see the header comment.
  void update(const std::vector<const devices::Device*>& devices);

  // Removes every document this Discovery published (empty retained payloads): for a reload that turns
  // discovery off or changes a prefix or the gateway id, before the new Discovery starts.
  void remove_all();

  void on_connected();
  void on_disconnected();

  // A message on one of subscriptions(); false for any other topic.
  bool on_message(std::string_view topic, std::string_view payload, bool retained);

 private:
  struct Document {
    nlohmann::json json;    // without the removal entries
    std::string published;  // the payload last published, empty before
  };

  void publish(const std::string& key, Document& document, bool force);
  std::string topic_of(const std::string& key) const;
  void remove_components(const std::string& key, const nlohmann::json& old_cmps);

  Identity identity_;
  Diagnostics diagnostics_;
  Lookup lookup_;
  Publish publish_;
  bool connected_ = false;
  // By device name; the gateway's own diagnostics device under "" (no device has that name).
  std::map<std::string, Document, std::less<>> documents_;
  // Components HA must still be told to remove: key -> component id -> platform.
  std::map<std::string, std::map<std::string, std::string>, std::less<>> removed_;
};

}  // namespace fg::gateway::homeassistant
