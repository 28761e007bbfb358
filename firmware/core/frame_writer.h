/*
 * Builds one frame of firmware/protocol/frame.h straight into a transmit buffer: the header, text
 * added piece by piece, the CRC, COBS and the delimiter, with no separate payload buffer (RAM is scarce on
 * an AVR: this saves a payload-sized copy).
 *
 * Text goes in as key=value pairs separated by single spaces, the format of the gateway's kv parser. A pair
 * is added whole or not at all: one that would take the payload past its limit is left out and counted by
 * the caller, so a frame never carries half a value.
 */
#ifndef FG_FIRMWARE_CORE_FRAME_WRITER_H
#define FG_FIRMWARE_CORE_FRAME_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "firmware/protocol/frame.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fg_frame_writer {
  fg_cobs_encoder cobs;
  uint16_t crc;
  uint8_t len;     /* payload bytes so far */
  uint8_t max_len; /* the payload limit */
} fg_frame_writer;

/* Starts a frame of the given type in out[0..cap) whose payload may take up to max_len bytes; cap must be
 * at least FG_FRAME_MAX_WIRE_SIZE(max_len). */
void fg_frame_writer_begin(fg_frame_writer* w, unsigned type, uint8_t* out, size_t cap, uint8_t max_len);

/* Appends text[0..n) if it fits; returns 1 if it was added, 0 if not (nothing is added then). */
int fg_frame_writer_text(fg_frame_writer* w, const char* text, size_t n);

/* Appends "key=value" (with a space before it unless it is the first text): all of it, or nothing (0). */
int fg_frame_writer_pair(fg_frame_writer* w, const char* key, const char* value, size_t value_len);

/* The same with a decimal value. */
int fg_frame_writer_pair_u32(fg_frame_writer* w, const char* key, uint32_t value);

/* Adds the CRC, closes the COBS encoding and appends the delimiter. Returns the bytes to send. */
size_t fg_frame_writer_end(fg_frame_writer* w);

#ifdef __cplusplus
}
#endif

#endif /* FG_FIRMWARE_CORE_FRAME_WRITER_H */
