#include "devices/serial/framer.hpp"

#include <utility>

namespace fg::devices::serial {

namespace {

// One overload per config type picks the framer it configures.
Expected<LineFramer, ConfigError> create_concrete(const LineFramerConfig& config, FrameHandler handler) {
  return LineFramer::create(config, std::move(handler));
}
Expected<FixedFramer, ConfigError> create_concrete(const FixedFramerConfig& config, FrameHandler handler) {
  return FixedFramer::create(config, std::move(handler));
}
Expected<CobsFramer, ConfigError> create_concrete(const CobsFramerConfig& config, FrameHandler handler) {
  return CobsFramer::create(config, std::move(handler));
}

}  // namespace

Expected<Framer, ConfigError> Framer::create(const FramerConfig& config, FrameHandler handler) {
  return std::visit(
      [&handler](const auto& concrete_config) -> Expected<Framer, ConfigError> {
        auto made = create_concrete(concrete_config, std::move(handler));
        if (!made) {
          return fail(std::move(made).error());
        }
        return Framer(Impl(std::move(*made)));
      },
      config);
}

void Framer::feed(std::span<const std::uint8_t> chunk) {
  std::visit([chunk](auto& framer) { framer.feed(chunk); }, impl_);
}

void Framer::reset() {
  std::visit([](auto& framer) { framer.reset(); }, impl_);
}

const FramerCounters& Framer::counters() const {
  return std::visit([](const auto& framer) -> const FramerCounters& { return framer.counters(); }, impl_);
}

std::size_t Framer::buffer_capacity() const {
  return std::visit([](const auto& framer) { return framer.buffer_capacity(); }, impl_);
}

}  // namespace fg::devices::serial
