#pragma once
// SerialDevice: one configured [[serial]] entry at run time. It joins the port handle, the framer, the
// line parser and the channels of devices/ into readings for the gateway, and turns commands (write,
// set, request) into bytes for the port. It knows nothing of MQTT: the gateway gives it a Sink.

#include <chrono>
#include <deque>
#include <expected>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "devices/serial/channel.hpp"
#include "devices/serial/framer.hpp"
#include "devices/serial/line_parser.hpp"
#include "devices/serial/port.hpp"
#include "gateway/config.hpp"
#include "gateway/payload.hpp"
#include "loop/loop.hpp"
#include "loop/timer.hpp"

namespace re2 {
class RE2;
}

namespace fg::gateway {

struct SerialDeviceCounters {
  std::uint64_t frames = 0;            // frames out of the framer
  std::uint64_t readings = 0;          // readings handed to the sink
  std::uint64_t rejected_lines = 0;    // lines the parser refused (garbage, invalid UTF-8, no match, ...)
  std::uint64_t invalid_values = 0;    // values a channel could not convert
  std::uint64_t filtered = 0;          // values dropped by change_only / min_interval
  std::uint64_t channel_overflow = 0;  // fields dropped because the device already has kMaxChannels
  std::uint64_t bad_names = 0;         // fields dropped whose name cannot be a topic level (Topics)
  std::uint64_t commands = 0;          // commands written to the port
  std::uint64_t commands_refused = 0;  // commands refused: port closed, queue full, unknown channel
  std::uint64_t replies = 0;
  std::uint64_t reply_timeouts = 0;
};

class SerialDevice {
 public:
  // A device produces at most this many distinct channels; beyond it new field names are dropped and
  // counted, so garbage with random keys cannot grow memory without bound.
  static constexpr std::size_t kMaxChannels = 256;
  // Requests waiting behind the one in progress; more are refused.
  static constexpr std::size_t kMaxQueuedRequests = 16;

  struct Sink {
    std::function<void(const Reading&)> on_reading;
    std::function<void(bool online, std::error_code why)> on_availability;
    // A reply (or timeout) for a request, as the JSON payload to publish.
    std::function<void(const std::string& reply_json)> on_reply;
  };

  static std::expected<std::unique_ptr<SerialDevice>, std::string> create(loop::Loop& loop,
                                                                          const SerialDeviceConfig& config,
                                                                          Sink sink);
  SerialDevice(const SerialDevice&) = delete;
  SerialDevice& operator=(const SerialDevice&) = delete;
  ~SerialDevice();

  // `write`: the payload bytes, plus the write terminator (or as one COMMAND frame with cobs framing).
  // With [serial.request] configured, a write is a request (its reply is matched and published).
  std::error_code write(std::string_view bytes);
  // `<channel>/set`: the channel's set_format with {channel} and {value} filled in, then as write().
  std::error_code set(std::string_view channel, std::string_view value);
  // `request`: queued; written when the one before it is answered or timed out. Known limit: replies are
  // matched to requests in order, so a device that sends a line matching reply_pattern on its own
  // accord shifts the matching until a timeout resynchronises it.
  std::error_code request(std::string_view command);

  // Flow control: stops reading the port while the MQTT side cannot keep up (see Gateway).
  void pause_input(bool paused) { port_->pause_reading(paused); }

  const std::string& name() const noexcept { return config_.name; }
  bool online() const noexcept { return port_ && port_->is_open(); }
  const SerialDeviceCounters& counters() const noexcept { return counters_; }
  const devices::serial::FramerCounters& framer_counters() const;
  const devices::serial::PortCounters& port_counters() const;

 private:
  struct ChannelState {
    std::optional<devices::serial::Channel> channel;  // empty for an unlisted channel: automatic kind
    std::uint64_t seq = 0;
  };

  SerialDevice(loop::Loop& loop, const SerialDeviceConfig& config, Sink sink);
  void on_frame(const devices::serial::Frame& frame);
  void on_port_state(bool open, std::error_code why);
  bool take_reply(std::string_view line, bool is_reply_frame);
  void publish_fields(std::string_view line);
  ChannelState* channel_state(const std::string& name);
  void start_next_request();
  void finish_request(std::optional<std::string_view> reply);
  std::error_code send(std::string_view bytes);

  SerialDeviceConfig config_;
  Sink sink_;
  SerialDeviceCounters counters_;
  std::optional<devices::serial::Framer> framer_;
  std::optional<devices::serial::LineParser> parser_;
  std::unordered_map<std::string, ChannelState> channels_;
  std::unique_ptr<re2::RE2> reply_pattern_;
  std::deque<std::string> requests_;  // front is in progress once request_timer_ runs
  bool request_in_progress_ = false;
  loop::Timer request_timer_;
  std::optional<devices::serial::SerialPort> port_;  // last: its callbacks use everything above
};

}  // namespace fg::gateway
