/*
 * fieldgate framed serial protocol, shared by the sensor-node firmware and the gateway (devices/serial).
 *
 * This header is C99 and C++ at once: it has no dependencies beyond <stddef.h> and <stdint.h>, allocates
 * nothing, and every function is static inline, so a microcontroller build just includes it.
 *
 * Wire format (docs/serial-framing.md has the long form):
 *
 *   wire    = COBS(frame) 0x00
 *   frame   = header payload crc
 *   header  = 1 byte: protocol version in the high nibble (FG_FRAME_VERSION), frame type in the low nibble
 *   payload = 0..N bytes; for FG_FRAME_TYPE_DATA, one text line in the port's line format (kv, json, ...)
 *   crc     = CRC-16/CCITT-FALSE over header and payload, most significant byte first
 *
 * CRC-16/CCITT-FALSE (called CRC-16/IBM-3740 in the RevEng catalogue): polynomial 0x1021, initial value
 * 0xFFFF, no input or output reflection, no final XOR. Its check value, the CRC of the ASCII bytes
 * "123456789", is 0x29B1 (FG_CRC16_CHECK).
 *
 * COBS is Consistent Overhead Byte Stuffing (Cheshire and Baker, 1999): the encoded frame contains no 0x00,
 * so 0x00 delimits frames and a receiver resynchronises at the next 0x00 after any line noise. The encoder
 * here always closes the last block, so an input that ends with a run of 254 non-zero bytes encodes with a
 * trailing 0x01 code byte; decoders accept both that form and the shorter one some other encoders emit.
 */
#ifndef FG_FIRMWARE_PROTOCOL_FRAME_H
#define FG_FIRMWARE_PROTOCOL_FRAME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Frame layout ---------------------------------------------------------------------------------- */

#define FG_FRAME_VERSION 1u
#define FG_FRAME_HEADER_SIZE 1u
#define FG_FRAME_CRC_SIZE 2u
/* Bytes a frame adds around its payload before COBS encoding: the header and the CRC. */
#define FG_FRAME_OVERHEAD (FG_FRAME_HEADER_SIZE + FG_FRAME_CRC_SIZE)
#define FG_FRAME_DELIMITER 0x00u

/* Frame types (the low nibble of the header). Types 3..15 are reserved and passed through undecoded. */
#define FG_FRAME_TYPE_DATA 0u    /* node -> gateway: one reading line, parsed like a line from a text port */
#define FG_FRAME_TYPE_COMMAND 1u /* gateway -> node: a command line */
#define FG_FRAME_TYPE_REPLY 2u   /* node -> gateway: the answer to a command */

#define FG_FRAME_HEADER(type) ((uint8_t)((FG_FRAME_VERSION << 4) | ((unsigned)(type)&0x0Fu)))
#define FG_FRAME_HEADER_VERSION(header) ((unsigned)(header) >> 4)
#define FG_FRAME_HEADER_TYPE(header) ((unsigned)(header)&0x0Fu)

/* Worst-case COBS size of n input bytes, not counting the 0x00 delimiter: one code byte to start, plus one
 * for every run of 254 non-zero bytes. Usable for static buffer sizes. */
#define FG_COBS_MAX_ENCODED_SIZE(n) ((size_t)(n) + (size_t)(n) / 254u + 1u)

/* Worst-case bytes on the wire for a payload of n bytes: COBS of header, payload and CRC, then 0x00. */
#define FG_FRAME_MAX_WIRE_SIZE(n) (FG_COBS_MAX_ENCODED_SIZE((size_t)(n) + FG_FRAME_OVERHEAD) + 1u)

/* ---- CRC-16/CCITT-FALSE ----------------------------------------------------------------------------- */

#define FG_CRC16_INIT 0xFFFFu
#define FG_CRC16_CHECK 0x29B1u

/* Continues a CRC over more bytes; start with FG_CRC16_INIT. Bitwise rather than table-driven, so it costs
 * no flash for a table; eight shifts per byte are far cheaper than a byte time at any serial baud rate. */
static inline uint16_t fg_crc16_update(uint16_t crc, const uint8_t* data, size_t len) {
  /* An unsigned int has at least 16 bits everywhere, so the register is kept in one and masked. */
  unsigned reg = crc;
  for (size_t i = 0; i < len; ++i) {
    reg ^= (unsigned)data[i] << 8;
    for (int bit = 0; bit < 8; ++bit) {
      reg = ((reg & 0x8000u) ? ((reg << 1) ^ 0x1021u) : (reg << 1)) & 0xFFFFu;
    }
  }
  return (uint16_t)reg;
}

static inline uint16_t fg_crc16(const uint8_t* data, size_t len) {
  return fg_crc16_update((uint16_t)FG_CRC16_INIT, data, len);
}

/* ---- COBS encoder, one byte at a time ------------------------------------------------------------------ */

/* Writes the COBS encoding of the bytes given to fg_cobs_encoder_put() into out[0..cap). No input buffer is
 * needed, so firmware can encode header, payload and CRC straight into its transmit buffer. */
typedef struct fg_cobs_encoder {
  uint8_t* out;
  size_t cap;
  size_t len;     /* bytes used in out, counting the reserved code byte of the open block */
  size_t code_at; /* index of the open block's code byte */
  uint8_t code;   /* 1 + data bytes in the open block so far */
  uint8_t overflow;
} fg_cobs_encoder;

static inline void fg_cobs_encoder_begin(fg_cobs_encoder* e, uint8_t* out, size_t cap) {
  e->out = out;
  e->cap = cap;
  e->len = 1;
  e->code_at = 0;
  e->code = 1;
  e->overflow = (uint8_t)(cap < 1u);
}

/* Internal: closes the open block and reserves the code byte of the next one. */
static inline void fg_cobs_encoder_close_block(fg_cobs_encoder* e) {
  if (e->len >= e->cap) {
    e->overflow = 1;
    return;
  }
  e->out[e->code_at] = e->code;
  e->code_at = e->len++;
  e->code = 1;
}

static inline void fg_cobs_encoder_put(fg_cobs_encoder* e, uint8_t byte) {
  if (e->overflow) {
    return;
  }
  if (byte == 0u) {
    fg_cobs_encoder_close_block(e);
    return;
  }
  if (e->len >= e->cap) {
    e->overflow = 1;
    return;
  }
  e->out[e->len++] = byte;
  if (++e->code == 0xFFu) {
    fg_cobs_encoder_close_block(e);
  }
}

/* Closes the last block and, if delimit is non-zero, appends the 0x00 delimiter. Returns the encoded size, or
 * 0 if out was too small (no valid encoding is empty, so 0 is unambiguous). */
static inline size_t fg_cobs_encoder_end(fg_cobs_encoder* e, int delimit) {
  if (e->overflow || e->code_at >= e->cap) {
    return 0;
  }
  e->out[e->code_at] = e->code;
  if (delimit) {
    if (e->len >= e->cap) {
      return 0;
    }
    e->out[e->len++] = (uint8_t)FG_FRAME_DELIMITER;
  }
  return e->len;
}

/* Encodes src[0..len) into dst without a delimiter; returns the encoded size, or 0 if cap is too small. */
static inline size_t fg_cobs_encode(const uint8_t* src, size_t len, uint8_t* dst, size_t cap) {
  fg_cobs_encoder e;
  fg_cobs_encoder_begin(&e, dst, cap);
  for (size_t i = 0; i < len; ++i) {
    fg_cobs_encoder_put(&e, src[i]);
  }
  return fg_cobs_encoder_end(&e, 0);
}

/* ---- COBS decoder, one byte at a time ------------------------------------------------------------------ */

/* Results of fg_cobs_decoder_end(). */
#define FG_COBS_OK 0        /* a complete frame of len bytes is in buf */
#define FG_COBS_EMPTY 1     /* nothing arrived between two delimiters */
#define FG_COBS_TRUNCATED 2 /* the delimiter came inside a block: the encoding is invalid */
#define FG_COBS_OVERFLOW 3  /* the decoded frame did not fit in buf; its bytes were dropped */

/* Decodes the bytes between two delimiters into buf[0..cap) as they arrive, so a UART receive interrupt can
 * feed it directly. The caller recognises the 0x00 delimiter and calls fg_cobs_decoder_end() for it instead
 * of fg_cobs_decoder_put(). */
typedef struct fg_cobs_decoder {
  uint8_t* buf;
  size_t cap;
  size_t len;
  size_t received;      /* encoded bytes since the last delimiter */
  uint8_t block_left;   /* data bytes still due in the current block; 0 means the next byte is a code */
  uint8_t zero_pending; /* the current block ends in an implied 0x00 if another block follows it */
  uint8_t overflow;
} fg_cobs_decoder;

static inline void fg_cobs_decoder_begin(fg_cobs_decoder* d, uint8_t* buf, size_t cap) {
  d->buf = buf;
  d->cap = cap;
  d->len = 0;
  d->received = 0;
  d->block_left = 0;
  d->zero_pending = 0;
  d->overflow = 0;
}

/* Internal: stores one decoded byte, or notes the overflow. */
static inline void fg_cobs_decoder_emit(fg_cobs_decoder* d, uint8_t byte) {
  if (d->len >= d->cap) {
    d->overflow = 1;
    return;
  }
  d->buf[d->len++] = byte;
}

/* Feeds one encoded byte, which must not be 0x00. */
static inline void fg_cobs_decoder_put(fg_cobs_decoder* d, uint8_t byte) {
  ++d->received;
  if (d->block_left == 0u) {
    /* A code byte: the previous block's implied zero is real now that another block follows it. */
    if (d->zero_pending) {
      fg_cobs_decoder_emit(d, 0u);
    }
    d->block_left = (uint8_t)(byte - 1u);
    d->zero_pending = (uint8_t)(byte != 0xFFu);
  } else {
    fg_cobs_decoder_emit(d, byte);
    --d->block_left;
  }
}

/* Ends the frame at a delimiter and returns one of FG_COBS_OK, FG_COBS_EMPTY, FG_COBS_TRUNCATED or
 * FG_COBS_OVERFLOW; with FG_COBS_OK the frame is buf[0..len). Call fg_cobs_decoder_begin() (or
 * fg_cobs_decoder_reset()) before the next frame. */
static inline int fg_cobs_decoder_end(const fg_cobs_decoder* d) {
  if (d->received == 0u) {
    return FG_COBS_EMPTY;
  }
  if (d->overflow) {
    return FG_COBS_OVERFLOW;
  }
  if (d->block_left != 0u) {
    return FG_COBS_TRUNCATED;
  }
  return FG_COBS_OK;
}

static inline void fg_cobs_decoder_reset(fg_cobs_decoder* d) {
  fg_cobs_decoder_begin(d, d->buf, d->cap);
}

/* Decodes one encoded frame src[0..len) (without its delimiter) into dst[0..cap) and returns the decoded
 * size, or FG_COBS_ERROR if the input is empty, contains 0x00, is truncated, or does not fit. dst may be
 * src: the decoder never writes ahead of the byte it reads. */
#define FG_COBS_ERROR ((size_t)-1)

static inline size_t fg_cobs_decode(const uint8_t* src, size_t len, uint8_t* dst, size_t cap) {
  fg_cobs_decoder d;
  fg_cobs_decoder_begin(&d, dst, cap);
  for (size_t i = 0; i < len; ++i) {
    if (src[i] == 0u) {
      return FG_COBS_ERROR;
    }
    fg_cobs_decoder_put(&d, src[i]);
  }
  return fg_cobs_decoder_end(&d) == FG_COBS_OK ? d.len : FG_COBS_ERROR;
}

/* ---- Frames ------------------------------------------------------------------------------------------ */

/* Encodes header, payload and CRC as one COBS frame with its trailing 0x00 into out[0..cap). Returns the
 * number of bytes to send, or 0 if cap is too small; FG_FRAME_MAX_WIRE_SIZE(len) is always enough. */
static inline size_t fg_frame_encode(unsigned type, const uint8_t* payload, size_t len, uint8_t* out,
                                     size_t cap) {
  const uint8_t header = FG_FRAME_HEADER(type);
  uint16_t crc = fg_crc16_update((uint16_t)FG_CRC16_INIT, &header, 1u);
  crc = fg_crc16_update(crc, payload, len);
  fg_cobs_encoder e;
  fg_cobs_encoder_begin(&e, out, cap);
  fg_cobs_encoder_put(&e, header);
  for (size_t i = 0; i < len; ++i) {
    fg_cobs_encoder_put(&e, payload[i]);
  }
  fg_cobs_encoder_put(&e, (uint8_t)(crc >> 8));
  fg_cobs_encoder_put(&e, (uint8_t)(crc & 0xFFu));
  return fg_cobs_encoder_end(&e, 1);
}

/* Results of fg_frame_check(). */
#define FG_FRAME_OK 0
#define FG_FRAME_TOO_SHORT 1   /* fewer bytes than a header and a CRC */
#define FG_FRAME_BAD_CRC 2     /* the CRC does not match: corrupted in transit */
#define FG_FRAME_BAD_VERSION 3 /* intact, but from a protocol version this code does not speak */

/* Checks a decoded frame. On FG_FRAME_OK the type is FG_FRAME_HEADER_TYPE(frame[0]) and the payload is
 * frame[FG_FRAME_HEADER_SIZE .. len - FG_FRAME_CRC_SIZE). The CRC is checked before the version, so a
 * version mismatch is reported only for frames that arrived intact. */
static inline int fg_frame_check(const uint8_t* frame, size_t len) {
  if (len < FG_FRAME_OVERHEAD) {
    return FG_FRAME_TOO_SHORT;
  }
  const size_t body = len - FG_FRAME_CRC_SIZE;
  const uint16_t sent = (uint16_t)(((unsigned)frame[body] << 8) | frame[body + 1u]);
  if (fg_crc16(frame, body) != sent) {
    return FG_FRAME_BAD_CRC;
  }
  if (FG_FRAME_HEADER_VERSION(frame[0]) != FG_FRAME_VERSION) {
    return FG_FRAME_BAD_VERSION;
  }
  return FG_FRAME_OK;
}

#ifdef __cplusplus
}
#endif

#endif /* FG_FIRMWARE_PROTOCOL_FRAME_H */
