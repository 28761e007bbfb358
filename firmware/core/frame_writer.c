#include "firmware/core/frame_writer.h"

#include <string.h>

#include "firmware/core/text.h"

static void put(fg_frame_writer* w, uint8_t byte) {
  w->crc = fg_crc16_update(w->crc, &byte, 1u);
  fg_cobs_encoder_put(&w->cobs, byte);
}

void fg_frame_writer_begin(fg_frame_writer* w, unsigned type, uint8_t* out, size_t cap, uint8_t max_len) {
  fg_cobs_encoder_begin(&w->cobs, out, cap);
  w->crc = (uint16_t)FG_CRC16_INIT;
  w->len = 0;
  w->max_len = max_len;
  put(w, FG_FRAME_HEADER(type));
}

int fg_frame_writer_text(fg_frame_writer* w, const char* text, size_t n) {
  if (n > (size_t)(w->max_len - w->len)) {
    return 0;
  }
  for (size_t i = 0; i < n; ++i) {
    put(w, (uint8_t)text[i]);
  }
  w->len = (uint8_t)(w->len + n);
  return 1;
}

int fg_frame_writer_pair(fg_frame_writer* w, const char* key, const char* value, size_t value_len) {
  size_t key_len = strlen(key);
  size_t separator = w->len != 0u ? 1u : 0u;
  if (separator + key_len + 1u + value_len > (size_t)(w->max_len - w->len)) {
    return 0;
  }
  if (separator) {
    fg_frame_writer_text(w, " ", 1u);
  }
  fg_frame_writer_text(w, key, key_len);
  fg_frame_writer_text(w, "=", 1u);
  fg_frame_writer_text(w, value, value_len);
  return 1;
}

int fg_frame_writer_pair_u32(fg_frame_writer* w, const char* key, uint32_t value) {
  char digits[FG_TEXT_NUMBER_MAX];
  return fg_frame_writer_pair(w, key, digits, fg_text_u32(digits, value));
}

size_t fg_frame_writer_end(fg_frame_writer* w) {
  uint16_t crc = w->crc;
  fg_cobs_encoder_put(&w->cobs, (uint8_t)(crc >> 8));
  fg_cobs_encoder_put(&w->cobs, (uint8_t)(crc & 0xFFu));
  return fg_cobs_encoder_end(&w->cobs, 1);
}
