/*
 * The sensor node: everything the firmware does, for any board, with no I/O of its own (see board.h).
 *
 * - fg_node_start() announces the boot: a lone 0x00 (so the gateway drops whatever partial frame it held),
 *   then the DATA frame "reset=<cause> fw=<version>", which the gateway publishes as <device>/reset.
 * - fg_node_poll() sends a DATA frame "n=<seq> <sensors...> out=<0|1>" every interval (n counts from 1
 *   after each reset, so a gap in n is a lost reading).
 * - fg_node_receive() takes the line's bytes one at a time, decodes COMMAND frames, and answers each intact
 *   one with a REPLY frame (command.h). Broken frames are counted and dropped, never answered: a frame that
 *   failed its CRC may not even have been meant for us. The one exception is a frame too long for the
 *   receive buffer, answered "ERR too long" so that the sender learns why rather than waiting.
 *
 * Memory is fixed (fg_node is about 200 bytes with the buffers) and nothing blocks except board->send.
 */
#ifndef FG_FIRMWARE_CORE_NODE_H
#define FG_FIRMWARE_CORE_NODE_H

#include <stddef.h>
#include <stdint.h>

#include "firmware/core/board.h"
#include "firmware/protocol/frame.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FG_NODE_FW_VERSION "1.0.0"
/* Readings every second until told otherwise. */
#define FG_NODE_DEFAULT_INTERVAL_MS 1000ul
/* The longest command accepted: "interval=86400000" and a CRLF fit with room to spare. */
#define FG_NODE_MAX_COMMAND 32u
/* The longest DATA or REPLY payload the node sends. */
#define FG_NODE_MAX_TEXT 128u

typedef enum fg_reset_cause {
  FG_RESET_UNKNOWN = 0, /* no flag set: a bootloader cleared them, or a jump to address 0 */
  FG_RESET_POWER_ON,
  FG_RESET_EXTERNAL,
  FG_RESET_BROWNOUT,
  FG_RESET_WATCHDOG
} fg_reset_cause;

/* "unknown", "power-on", "external", "brownout", "watchdog". */
const char* fg_reset_cause_name(uint8_t cause);

/* What the node counted since its reset; STATS reports them. 16 bits wrap, which is fine for a rate. */
typedef struct fg_node_counters {
  uint16_t commands;    /* intact COMMAND frames */
  uint16_t errors;      /* of those, answered ERR */
  uint16_t empty;       /* 0x00 with nothing before it (harmless, counted anyway) */
  uint16_t bad_cobs;    /* the delimiter came inside a COBS block */
  uint16_t too_short;   /* fewer bytes than a header and a CRC */
  uint16_t bad_crc;     /* corrupted on the line */
  uint16_t bad_version; /* intact, but another protocol version */
  uint16_t bad_type;    /* intact, but not a COMMAND frame (an echo, a reply sent back) */
  uint16_t overlong;    /* longer than FG_NODE_MAX_COMMAND */
  uint16_t overrun;     /* bytes the board lost before the core saw them (receive buffer full) */
  uint16_t truncated;   /* readings left out of a DATA frame for lack of room */
} fg_node_counters;

typedef struct fg_node {
  const fg_board* board;
  fg_cobs_decoder rx;
  uint8_t rx_buf[FG_NODE_MAX_COMMAND + FG_FRAME_OVERHEAD];
  uint8_t tx_buf[FG_FRAME_MAX_WIRE_SIZE(FG_NODE_MAX_TEXT)];
  uint32_t interval_ms;
  uint32_t last_reading_ms;
  uint32_t last_poll_ms;
  uint32_t uptime_s;
  uint16_t uptime_ms; /* the part of the uptime below a second */
  uint32_t seq;       /* n of the last DATA frame */
  uint8_t output;
  uint8_t reset_cause;
  uint8_t hang; /* HANG was received: the board's main loop must stop feeding the watchdog */
  fg_node_counters counters;
} fg_node;

/* Starts the node (any previous state is forgotten) and sends the boot announcement. */
void fg_node_start(fg_node* node, const fg_board* board, uint8_t reset_cause, uint32_t now_ms);

/* Takes one byte from the serial line; may send a REPLY (and, for READ, a DATA frame first). */
void fg_node_receive(fg_node* node, uint8_t byte, uint32_t now_ms);

/* Advances the uptime and sends a DATA frame when the interval has passed. Call it often; now_ms is any
 * millisecond clock that wraps at 2^32 (differences are taken modulo 2^32). */
void fg_node_poll(fg_node* node, uint32_t now_ms);

/* The board lost `bytes` received bytes (its buffer was full): counted, and reported by STATS. */
void fg_node_note_overrun(fg_node* node, uint16_t bytes);

#ifdef __cplusplus
}
#endif

#endif /* FG_FIRMWARE_CORE_NODE_H */
