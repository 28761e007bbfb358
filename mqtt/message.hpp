#pragma once
// Message: what the session delivers (a received PUBLISH, valid during the callback only) and
// Publication: what it sends (owning its topic and payload, used for the will, the birth message, the
// final message of a clean shutdown and the outbox).

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace fg::mqtt {

enum class Qos : int {
  at_most_once = 0,
  at_least_once = 1,
  exactly_once = 2,
};

// A received message. The views point into libmosquitto's buffer and are valid only until the message
// callback returns: copy what you keep.
struct Message {
  std::string_view topic;
  std::span<const std::byte> payload;
  Qos qos = Qos::at_most_once;
  // Set when the broker delivers a stored retained message (on subscribe); a live message published
  // with retain reaches existing subscribers with retain cleared (MQTT 3.1.1 3.3.1.3, MQTT 5 default).
  bool retain = false;

  // The payload as characters (it may be binary: MQTT does not say).
  std::string_view text() const noexcept {
    return {reinterpret_cast<const char*>(payload.data()), payload.size()};
  }
};

struct Publication {
  std::string topic;
  std::string payload;  // bytes; std::string only because it owns them and converts from text easily
  Qos qos = Qos::at_most_once;
  bool retain = false;

  bool operator==(const Publication&) const = default;
};

}  // namespace fg::mqtt
