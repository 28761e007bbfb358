#pragma once
// Device: what the gateway holds, in one list, for every kind of device (serial port, GPIO line, ...).
// A device is built from its config by the gateway's device factory, given a Sink, and from then on
// reports readings, availability and replies through the Sink and takes Commands. Each kind lives in a
// folder of its own under devices/ and knows nothing of MQTT, topics or payloads.
//
// Sink callbacks run from the loop. A device may be destroyed at any time, also from inside one of its
// own Sink callbacks (DESIGN.md rule 4): an implementation that still has work after a callback returns
// must notice that it was destroyed (reap deferred, as loop/ handles do).
//
// devices/ may use loop/ and storage/ and nothing else of fieldgate (devices/CMakeLists.txt states it):
// a device does not log through the gateway's logger either, it says what is worth a log line through
// Sink::on_log, and the gateway writes it.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "devices/command.hpp"
#include "devices/reading.hpp"

namespace fg::devices {

// One counter of a device, by name, for `fieldgate status`, the metrics and the log. A `drop` counter
// counts input or commands lost (garbage lines, invalid values, dropped edges, refused commands); the
// gateway logs each run of drops once when it starts and once when it ends, with the count.
struct Counter {
  std::string_view name;  // snake_case, stable: part of the status JSON and the metrics
  std::uint64_t value = 0;
  bool drop = false;
};

// How much a device's log line matters. The values are syslog's priorities, as the gateway's log levels.
enum class Severity : std::uint8_t { error = 3, warning = 4, notice = 5, info = 6, debug = 7 };

// The gateway's rule for channel names that a device finds at run time (a serial device's unlisted fields).
// A channel name becomes a level of a topic, so the gateway's topic layout decides which names can be used
// (docs/topics.md), not the device: a device drops and counts a reading whose channel name fails the rule.
// Channel names from the config were checked against the same rule when the config was read.
using ChannelNameRule = std::function<bool(std::string_view name)>;

// What the gateway needs to know of a channel before any reading arrives (Home Assistant discovery,
// restoring desired output states).
struct ChannelInfo {
  enum class Kind : std::uint8_t { number, boolean, text };
  std::string name;
  Kind kind = Kind::number;
  std::string unit;
  bool settable = false;  // takes CommandKind::set (a relay, a PWM duty, a serial set_format)
  bool pulse = false;     // takes CommandKind::pulse
  bool counter = false;   // a monotonically increasing total (a pulse counter, a meter)
};

class Device {
 public:
  struct Sink {
    std::function<void(Reading&&)> on_reading;
    // The device became usable (online) or stopped being usable, and why (empty when online).
    std::function<void(bool online, std::error_code why)> on_availability;
    std::function<void(Reply&&)> on_reply;
    // A line for the log, without the device's name (the gateway puts it in front): "/dev/ttyUSB0 open".
    // Rare events only (a port opened or lost); what happens per byte or per line is counted instead.
    std::function<void(Severity, std::string_view message)> on_log;
  };

  Device() = default;
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;
  virtual ~Device() = default;

  virtual const std::string& name() const noexcept = 0;
  // "serial", "gpio", ...: for status and discovery.
  virtual std::string_view kind() const noexcept = 0;
  virtual bool online() const noexcept = 0;
  // Why the device is not online (the open error, "No such device" after an unplug); empty when online.
  virtual std::error_code offline_reason() const noexcept = 0;

  // Carries out a command, or says why not (std::errc::operation_not_supported for a kind of command
  // or a channel the device does not take, the port's error when it is closed, ...).
  virtual std::error_code accept(const Command& command) = 0;

  // The channel's desired state, as the payload of a `set` that brings it back: what the gateway keeps in
  // the replicated register after a `set` or `pulse` was taken, and sets again at the next start. It is
  // the state the device resolved the command to, never a relative command: after a `toggle` a GPIO output
  // answers "on" or "off", so a restore sets the level the output had instead of toggling a second time;
  // after a pulse, "off". Empty when the device keeps no desired state for the channel.
  virtual std::string desired_state(std::string_view channel) const = 0;

  // Flow control: stop producing readings while the gateway cannot pass them on (a slow broker).
  virtual void pause_input(bool paused) = 0;

  // The channels known from the config (a device may report further ones as they appear).
  virtual std::vector<ChannelInfo> channels() const = 0;
  virtual std::vector<Counter> counters() const = 0;
};

}  // namespace fg::devices
