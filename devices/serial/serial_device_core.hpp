#pragma once
// The state of a SerialDevice, private to serial_device*.cpp. It lives on the heap at a stable address,
// because the port, the framer and the request queue hold callbacks into it.
//
// The rule that lets the device be destroyed inside its own Sink callbacks (DESIGN.md rule 4): every entry
// from the loop (port data, port state, a request's timeout) and every public call runs through enter().
// If the SerialDevice is destroyed meanwhile, the Core is only orphaned: it stops calling the Sink (whose
// callback may be the one running, so the Sink itself stays) and is deleted when the outermost entry
// returns, after the framer loop, the parser loop or the request coroutine that was running has noticed.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "devices/serial/channel.hpp"
#include "devices/serial/framer.hpp"
#include "devices/serial/line_parser.hpp"
#include "devices/serial/port.hpp"
#include "devices/serial/request_queue.hpp"
#include "devices/serial/serial_device.hpp"

namespace fg::devices::serial {

struct SerialCounters {
  std::uint64_t frames = 0;            // frames out of the framer
  std::uint64_t readings = 0;          // readings handed to the sink
  std::uint64_t rejected_lines = 0;    // lines the parser refused (garbage, invalid UTF-8, no match, ...)
  std::uint64_t invalid_values = 0;    // values a channel could not convert
  std::uint64_t filtered = 0;          // values dropped by change_only / min_interval
  std::uint64_t channel_overflow = 0;  // fields dropped because the device already has kMaxChannels
  std::uint64_t bad_names = 0;         // fields dropped whose name fails the gateway's ChannelNameRule
  std::uint64_t commands = 0;          // commands written to the port
  std::uint64_t refused_commands = 0;  // commands refused: port closed, queue full, unknown channel, ...
};

class SerialDevice::Core {
 public:
  Core(SerialDeviceSettings settings, Sink sink, ChannelNameRule channel_name_rule);
  Core(const Core&) = delete;
  Core& operator=(const Core&) = delete;

  // Builds the framer, parser, channels, request queue and port; the text of the first failure.
  std::optional<std::string> init(loop::Loop& loop);

  // Runs f as an entry into the Core, which deletes itself afterwards if it was orphaned meanwhile.
  template <typename F>
  void enter(F&& f) {
    ++depth_;
    f();
    if (--depth_ == 0 && orphaned_) {
      delete this;
    }
  }
  // The SerialDevice was destroyed: no more Sink calls; deleted now, or by the entry running.
  void release() noexcept;

  std::error_code accept(const Command& command);
  std::string desired_state(std::string_view channel) const;
  void pause_input(bool paused);

  const SerialDeviceSettings& settings() const noexcept { return settings_; }
  bool online() const noexcept { return port_ && port_->is_open(); }
  std::error_code offline_reason() const noexcept { return offline_reason_; }
  std::vector<Counter> counters() const;

 private:
  struct ChannelState {
    std::optional<Channel> channel;  // empty for an unlisted channel: automatic kind
  };

  ~Core() = default;  // only through release() or enter()

  // Readings (serial_device_readings.cpp).
  void on_frame(const Frame& frame);
  void publish_fields(std::string_view line);
  ChannelState* channel_state(const std::string& name);

  // Commands (serial_device.cpp).
  void on_port_state(bool open, std::error_code why);
  std::error_code write(std::string_view bytes);
  std::error_code set(std::string_view channel, std::string_view value);
  void apply_desired();
  std::error_code request(std::string_view command);
  std::error_code send(std::string_view bytes);
  void log(Severity severity, std::string_view message) const;

  SerialDeviceSettings settings_;
  Sink sink_;
  ChannelNameRule channel_name_rule_;
  SerialCounters counters_;
  std::error_code offline_reason_;
  int depth_ = 0;
  bool orphaned_ = false;
  std::optional<Framer> framer_;
  std::optional<LineParser> parser_;
  std::unordered_map<std::string, ChannelState> channels_;
  // The latest `set` of each channel, in the order channels were first set: what the outputs should be.
  // Its text is written again every time the port opens, since a device that was unplugged or not there
  // yet holds no state of ours; at most kMaxChannels entries.
  struct Desired {
    std::string channel;
    std::string value;  // the set's payload: the port's device alone knows what it means
    std::string text;   // as written: the channel's set_format filled in
  };
  std::vector<Desired> desired_;
  std::unique_ptr<RequestQueue> requests_;  // with [serial.request] only
  std::optional<SerialPort> port_;          // last: its callbacks use everything above
};

}  // namespace fg::devices::serial
