#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string_view>

namespace fg::devices::serial {

// One complete frame from a framer. The bytes live in the framer's buffer and are valid only during the
// handler call; copy what must outlive it.
struct Frame {
  std::span<const std::uint8_t> payload;
  // The frame type of the COBS protocol (FG_FRAME_TYPE_* of firmware/protocol/frame.h); the line and
  // fixed framers always report FG_FRAME_TYPE_DATA (0).
  std::uint8_t type = 0;

  std::string_view text() const noexcept {
    return {reinterpret_cast<const char*>(payload.data()), payload.size()};
  }
};

// Called once per complete frame. The handler must not feed, reset or destroy the framer that called it:
// it runs inside feed(), so it should note what to do and let the owner act after feed() returns.
using FrameHandler = std::function<void(const Frame&)>;

}  // namespace fg::devices::serial
