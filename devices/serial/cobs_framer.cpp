#include "devices/serial/cobs_framer.hpp"

#include <fmt/core.h>

#include <utility>

namespace fg::devices::serial {

Expected<CobsFramer, ConfigError> CobsFramer::create(CobsFramerConfig config, FrameHandler handler) {
  if (config.max_payload > kMaxPayload) {
    return fail(ConfigError{fmt::format("max frame payload must be at most {}", kMaxPayload)});
  }
  if (!handler) {
    return fail(ConfigError{"COBS framer needs a frame handler"});
  }
  return CobsFramer(config, std::move(handler));
}

CobsFramer::CobsFramer(CobsFramerConfig config, FrameHandler handler)
    : handler_(std::move(handler)),
      buffer_(std::make_unique<std::uint8_t[]>(config.max_payload + FG_FRAME_OVERHEAD)) {
  fg_cobs_decoder_begin(&decoder_, buffer_.get(), config.max_payload + FG_FRAME_OVERHEAD);
}

void CobsFramer::feed(std::span<const std::uint8_t> chunk) {
  counters_.bytes += chunk.size();
  for (const std::uint8_t byte : chunk) {
    if (byte == FG_FRAME_DELIMITER) {
      end_frame();
    } else {
      fg_cobs_decoder_put(&decoder_, byte);
    }
  }
}

void CobsFramer::end_frame() {
  // Everything received for a dropped frame counts as dropped, its delimiter included.
  const std::uint64_t wire_bytes = decoder_.received + 1;
  switch (fg_cobs_decoder_end(&decoder_)) {
    case FG_COBS_EMPTY:
      ++counters_.empty;
      counters_.dropped_bytes += wire_bytes;
      break;
    case FG_COBS_OVERFLOW:
      ++counters_.overlong;
      counters_.dropped_bytes += wire_bytes;
      break;
    case FG_COBS_TRUNCATED:
      ++counters_.bad_cobs;
      counters_.dropped_bytes += wire_bytes;
      break;
    default:
      switch (fg_frame_check(decoder_.buf, decoder_.len)) {
        case FG_FRAME_OK: {
          ++counters_.frames;
          const std::span<const std::uint8_t> payload(decoder_.buf + FG_FRAME_HEADER_SIZE,
                                                      decoder_.len - FG_FRAME_OVERHEAD);
          handler_(Frame{payload, static_cast<std::uint8_t>(FG_FRAME_HEADER_TYPE(decoder_.buf[0]))});
          break;
        }
        case FG_FRAME_TOO_SHORT:
          ++counters_.too_short;
          counters_.dropped_bytes += wire_bytes;
          break;
        case FG_FRAME_BAD_CRC:
          ++counters_.bad_crc;
          counters_.dropped_bytes += wire_bytes;
          break;
        default:
          ++counters_.bad_version;
          counters_.dropped_bytes += wire_bytes;
          break;
      }
  }
  fg_cobs_decoder_reset(&decoder_);
}

void CobsFramer::reset() {
  if (decoder_.received != 0) {
    ++counters_.discarded;
    counters_.dropped_bytes += decoder_.received;
  }
  fg_cobs_decoder_reset(&decoder_);
}

}  // namespace fg::devices::serial
