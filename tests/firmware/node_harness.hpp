#pragma once
// NodeHarness: the firmware's node core on a board made of test code. It records what the node sends,
// splits it into frames with the protocol header's own decoder, and offers the sensors and the output pin
// as plain members. Commands are built with the header's encoder, so these tests need nothing of devices/.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "firmware/core/node.h"
#include "firmware/protocol/frame.h"

namespace fg::firmware::test {

// One frame the node sent, checked: the type and the payload as text; `intact` is false if the frame did
// not decode or failed its CRC (which would be a bug in the node).
struct SentFrame {
  unsigned type = 0;
  std::string text;
  bool intact = false;
};

// The wire form of one frame, as a gateway would send it.
inline std::string wire_frame(unsigned type, std::string_view payload) {
  std::vector<std::uint8_t> out(FG_FRAME_MAX_WIRE_SIZE(payload.size()));
  std::size_t n = fg_frame_encode(type, reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size(),
                                  out.data(), out.size());
  return std::string(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n));
}

inline std::string command(std::string_view text) {
  return wire_frame(FG_FRAME_TYPE_COMMAND, text);
}

class NodeHarness {
 public:
  NodeHarness() {
    board_.ctx = this;
    board_.name = "test";
    board_.send = [](void* ctx, const std::uint8_t* bytes, std::size_t len) {
      static_cast<NodeHarness*>(ctx)->wire_.append(reinterpret_cast<const char*>(bytes), len);
    };
    board_.read_sensors = [](void* ctx, fg_reading* out, std::uint8_t cap) -> std::uint8_t {
      auto* self = static_cast<NodeHarness*>(ctx);
      ++self->sensor_reads;
      std::uint8_t n = 0;
      for (const auto& r : self->sensors) {
        if (n < cap) {
          out[n++] = r;
        }
      }
      return n;
    };
    board_.set_output = [](void* ctx, std::uint8_t level) {
      static_cast<NodeHarness*>(ctx)->output_levels.push_back(level);
    };
  }
  NodeHarness(const NodeHarness&) = delete;
  NodeHarness& operator=(const NodeHarness&) = delete;

  void start(std::uint8_t cause = FG_RESET_POWER_ON, std::uint32_t now = 0) {
    fg_node_start(&node, &board_, cause, now);
  }

  // Feeds bytes as they would come off the line, one at a time.
  void receive(std::string_view bytes, std::uint32_t now = 0) {
    for (char c : bytes) {
      fg_node_receive(&node, static_cast<std::uint8_t>(c), now);
    }
  }

  void poll(std::uint32_t now) { fg_node_poll(&node, now); }

  // Everything sent so far, raw.
  const std::string& wire() const { return wire_; }

  // The frames sent since the last call (a lone 0x00 is no frame and is skipped).
  std::vector<SentFrame> take_frames() {
    std::vector<SentFrame> frames;
    std::size_t start = 0;
    for (std::size_t end; (end = wire_.find('\0', start)) != std::string::npos; start = end + 1) {
      if (end == start) {
        continue;
      }
      std::vector<std::uint8_t> decoded(end - start);
      std::size_t len = fg_cobs_decode(reinterpret_cast<const std::uint8_t*>(wire_.data() + start),
                                       end - start, decoded.data(), decoded.size());
      SentFrame f;
      if (len != FG_COBS_ERROR && fg_frame_check(decoded.data(), len) == FG_FRAME_OK) {
        f.intact = true;
        f.type = FG_FRAME_HEADER_TYPE(decoded[0]);
        f.text.assign(reinterpret_cast<const char*>(decoded.data()) + FG_FRAME_HEADER_SIZE,
                      len - FG_FRAME_OVERHEAD);
      }
      frames.push_back(std::move(f));
    }
    wire_.erase(0, start);
    return frames;
  }

  // Sends a command and returns the one REPLY it got ("<no reply>" or "<N frames>" otherwise).
  std::string ask(std::string_view text, std::uint32_t now = 0) {
    receive(command(text), now);
    auto frames = take_frames();
    if (frames.size() != 1) {
      return "<" + std::to_string(frames.size()) + " frames>";
    }
    if (!frames[0].intact || frames[0].type != FG_FRAME_TYPE_REPLY) {
      return "<not an intact reply>";
    }
    return frames[0].text;
  }

  fg_node node{};
  std::vector<fg_reading> sensors{{"t", 2150, 2}, {"h", 405, 1}};
  std::vector<std::uint8_t> output_levels;
  int sensor_reads = 0;

 private:
  fg_board board_{};
  std::string wire_;
};

}  // namespace fg::firmware::test
