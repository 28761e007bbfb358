/*
 * The commands a node understands: the payload of a COMMAND frame, one line of printable ASCII.
 *
 *   PING            -> PONG
 *   READ            -> a DATA frame at once, then OK n=<its sequence number>
 *   VERSION         -> OK fw=<firmware version> proto=<frame protocol version> board=<board name>
 *   UPTIME          -> OK up=<seconds since reset, with milliseconds>
 *   STATS           -> OK and the node's counters (docs/firmware.md lists them)
 *   HANG            -> OK hang, then the node stops feeding its watchdog (a test of the watchdog)
 *   out=<v>         -> OK out=<0|1>; v is 0, 1, on, off, true or false
 *   interval=<ms>   -> OK interval=<ms>; 0 stops the periodic readings, at most FG_COMMAND_INTERVAL_MAX
 *
 * Anything else is answered ERR <reason>. Keywords are case-sensitive; one trailing CR, LF or CRLF is
 * ignored, so a command typed in a terminal works too.
 */
#ifndef FG_FIRMWARE_CORE_COMMAND_H
#define FG_FIRMWARE_CORE_COMMAND_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One day: an interval longer than that is more likely a typo than a wish. */
#define FG_COMMAND_INTERVAL_MAX 86400000ul

typedef enum fg_command_kind {
  FG_COMMAND_PING = 0,
  FG_COMMAND_READ,
  FG_COMMAND_VERSION,
  FG_COMMAND_UPTIME,
  FG_COMMAND_STATS,
  FG_COMMAND_HANG,
  FG_COMMAND_SET_OUTPUT,  /* value: 0 or 1 */
  FG_COMMAND_SET_INTERVAL /* value: milliseconds */
} fg_command_kind;

/* Why a command was refused; each has a fixed reply text (fg_command_error_text). */
typedef enum fg_command_error {
  FG_COMMAND_OK = 0,
  FG_COMMAND_EMPTY,     /* no text at all */
  FG_COMMAND_BAD_BYTE,  /* a byte that is not printable ASCII (control characters, NUL, UTF-8) */
  FG_COMMAND_UNKNOWN,   /* not one of the commands above */
  FG_COMMAND_BAD_VALUE, /* a known name with a value of the wrong form */
  FG_COMMAND_RANGE,     /* a number outside the allowed range */
  FG_COMMAND_TOO_LONG   /* longer than the node's receive buffer (reported by the node, not the parser) */
} fg_command_error;

typedef struct fg_command {
  uint8_t kind; /* fg_command_kind */
  uint32_t value;
} fg_command;

/* Parses text[0..len). Returns FG_COMMAND_OK and fills *out, or the error (out is then untouched). */
fg_command_error fg_command_parse(const uint8_t* text, size_t len, fg_command* out);

/* The reply text of an error, without the "ERR " prefix: "unknown command", "bad value", ... */
const char* fg_command_error_text(fg_command_error error);

#ifdef __cplusplus
}
#endif

#endif /* FG_FIRMWARE_CORE_COMMAND_H */
