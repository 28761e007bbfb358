#pragma once
// The MQTT topic layout (DESIGN.md):
//   <prefix>/<gateway>/status                    retained online / offline (the will)
//   <prefix>/<gateway>/metrics                   retained counters, every [mqtt] metrics_interval
//   <prefix>/<gateway>/<device>/status           retained online / offline: the device's port is open
//   <prefix>/<gateway>/<device>/<channel>        readings
//   <prefix>/<gateway>/<device>/write            command: raw bytes to a serial port
//   <prefix>/<gateway>/<device>/<channel>/set    command: set a channel (written with its set_format)
//   <prefix>/<gateway>/<device>/<channel>/pulse  command: a GPIO output on for a while (payload: duration)
//   <prefix>/<gateway>/<device>/request          command: write, then wait for a matching reply
//   <prefix>/<gateway>/<device>/reply            the reply (or the timeout) of a request
//   <prefix>/<gateway>/register/get/<key>        request: read <key> of the site's replicated register
//   <prefix>/<gateway>/register/value/<key>      the answer (keys are "<gateway>/<device>/<channel>", so a
//                                                dead gateway's readings are read through a live one)

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "devices/command.hpp"

namespace fg::gateway {

class Topics {
 public:
  Topics(std::string prefix, std::string gateway_id);

  std::string gateway_status() const;
  std::string metrics() const;
  std::string device_status(std::string_view device) const;
  std::string reading(std::string_view device, std::string_view channel) const;
  std::string reply(std::string_view device) const;
  // What the gateway subscribes to: the command topics of any of its devices, and nothing else (a
  // "+/#" would bring every reading the gateway publishes back to it).
  std::vector<std::string> command_filters() const;

  // The device, and what the gateway hands it as a devices::Command (with the message's payload).
  using CommandKind = devices::CommandKind;
  struct Command {
    CommandKind kind;
    std::string device;
    std::string channel;  // set and pulse
  };
  // Whether a field name can be the last level of a reading's topic: not empty, no '/', '+', '#' or
  // NUL, and none of the names the layout gives a meaning after <device>/ (status, write, request,
  // reply), so no device can publish onto its own availability or command topics.
  static bool is_channel_name(std::string_view name) noexcept;

  // Recognises a command topic of this gateway; anything else is nullopt.
  std::optional<Command> parse_command(std::string_view topic) const;

  // The replicated register's request topics ("register" is a reserved device name).
  std::string register_get_filter() const;
  // The key asked for on a register/get topic of this gateway; nullopt for any other topic or an empty key.
  std::optional<std::string> parse_register_get(std::string_view topic) const;
  std::string register_value(std::string_view key) const;

 private:
  std::string base_;  // "<prefix>/<gateway>/"
};

}  // namespace fg::gateway
