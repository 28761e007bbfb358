#pragma once
// SerialDevice: one serial device ([[serial]] of the config) as a devices::Device. It joins the port handle,
// the framer, the line parser and the channels into Readings, and turns Commands into bytes for the port:
//   write    the payload as it is, plus the write terminator (one COMMAND frame with COBS framing);
//   set      the channel's set_format with {channel} and {value} filled in, then as write; the latest set
//            of each channel is the desired state of that output: taken while the port is closed too
//            (a state restored from the register at start, before the device appeared), and written
//            again, in the order the channels were first set, every time the port opens;
//   request  through the request queue (request_queue.hpp), which publishes a Reply for each.
// With [serial.request] configured every command is a request: a reply can only be matched to its command
// if no other command was written in between. pulse is not something a serial port takes.
//
// It knows nothing of MQTT or topics: the gateway gives it a Sink, and the rule for the channel names it
// finds at run time (ChannelNameRule).
//
// Destroying it is allowed anywhere, also inside one of its own Sink callbacks: its state then stays until
// the callback has returned to the loop (the Core of serial_device.cpp, reaped as mqtt::Session's is).

#include <expected>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "devices/device.hpp"
#include "devices/serial/serial_settings.hpp"
#include "loop/loop.hpp"

namespace fg::devices::serial {

class SerialDevice final : public Device {
 public:
  // A device produces at most this many distinct channels; beyond it new field names are dropped and
  // counted, so garbage with random keys cannot grow memory without bound.
  static constexpr std::size_t kMaxChannels = 256;

  // Fails on settings the config reader did not check, and when the port's path cannot even be watched.
  // A port that is merely absent is no error: it opens when it appears. Sink callbacks may run from
  // inside this call (a port that opens at once).
  static std::expected<std::unique_ptr<SerialDevice>, std::string> create(loop::Loop& loop,
                                                                          SerialDeviceSettings settings,
                                                                          Sink sink,
                                                                          ChannelNameRule channel_name_rule);
  ~SerialDevice() override;

  const std::string& name() const noexcept override;
  std::string_view kind() const noexcept override { return "serial"; }
  bool online() const noexcept override;
  std::error_code offline_reason() const noexcept override;
  std::error_code accept(const Command& command) override;
  // The latest set's value, as it came.
  std::string desired_state(std::string_view channel) const override;
  // Stops reading the port (flow control); writing goes on.
  void pause_input(bool paused) override;
  std::vector<ChannelInfo> channels() const override;
  std::vector<Counter> counters() const override;

 private:
  class Core;
  explicit SerialDevice(Core* core) noexcept : core_(core) {}
  Core* core_;
};

}  // namespace fg::devices::serial
