#pragma once

#include <cstdint>
#include <span>
#include <variant>

#include "devices/serial/cobs_framer.hpp"
#include "devices/serial/config_error.hpp"
#include "devices/serial/expected.hpp"
#include "devices/serial/fixed_framer.hpp"
#include "devices/serial/frame.hpp"
#include "devices/serial/framer_counters.hpp"
#include "devices/serial/line_framer.hpp"

namespace fg::devices::serial {

// The framing of one port, chosen by its config.
using FramerConfig = std::variant<LineFramerConfig, FixedFramerConfig, CobsFramerConfig>;

// Any of the three framers behind one interface, which is what the port handle holds: it feeds whatever
// read() returned and gets complete frames through the handler.
class Framer {
 public:
  static Expected<Framer, ConfigError> create(const FramerConfig& config, FrameHandler handler);

  void feed(std::span<const std::uint8_t> chunk);
  void reset();
  const FramerCounters& counters() const;
  std::size_t buffer_capacity() const;

 private:
  using Impl = std::variant<LineFramer, FixedFramer, CobsFramer>;
  explicit Framer(Impl impl) : impl_(std::move(impl)) {}

  Impl impl_;
};

}  // namespace fg::devices::serial
