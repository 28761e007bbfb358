#include "firmware/core/command.h"

#include <string.h>

#include "firmware/core/text.h"

/* Does text[0..len) equal the NUL-terminated word? */
static int equals(const uint8_t* text, size_t len, const char* word) {
  return strlen(word) == len && memcmp(text, word, len) == 0;
}

/* Does text[0..len) start with the NUL-terminated prefix? */
static int starts_with(const uint8_t* text, size_t len, const char* prefix) {
  size_t n = strlen(prefix);
  return len >= n && memcmp(text, prefix, n) == 0;
}

static fg_command_error parse_output(const uint8_t* v, size_t n, fg_command* out) {
  if (equals(v, n, "1") || equals(v, n, "on") || equals(v, n, "true")) {
    out->value = 1;
  } else if (equals(v, n, "0") || equals(v, n, "off") || equals(v, n, "false")) {
    out->value = 0;
  } else {
    return FG_COMMAND_BAD_VALUE;
  }
  out->kind = FG_COMMAND_SET_OUTPUT;
  return FG_COMMAND_OK;
}

static fg_command_error parse_interval(const uint8_t* v, size_t n, fg_command* out) {
  uint32_t ms;
  for (size_t i = 0; i < n; ++i) {
    if (v[i] < '0' || v[i] > '9') {
      return FG_COMMAND_BAD_VALUE;
    }
  }
  /* All digits: what fg_text_parse_u32 still refuses is empty (a bad value) or too large (a range error). */
  if (n == 0u) {
    return FG_COMMAND_BAD_VALUE;
  }
  if (!fg_text_parse_u32(v, n, &ms) || ms > FG_COMMAND_INTERVAL_MAX) {
    return FG_COMMAND_RANGE;
  }
  out->kind = FG_COMMAND_SET_INTERVAL;
  out->value = ms;
  return FG_COMMAND_OK;
}

fg_command_error fg_command_parse(const uint8_t* text, size_t len, fg_command* out) {
  /* One line ending, as a terminal or a gateway's write_terminator would add, is not part of the command. */
  if (len > 0u && text[len - 1u] == '\n') {
    --len;
  }
  if (len > 0u && text[len - 1u] == '\r') {
    --len;
  }
  if (len == 0u) {
    return FG_COMMAND_EMPTY;
  }
  for (size_t i = 0; i < len; ++i) {
    if (text[i] < 0x20u || text[i] > 0x7Eu) {
      return FG_COMMAND_BAD_BYTE;
    }
  }
  static const char* const words[] = {"PING", "READ", "VERSION", "UPTIME", "STATS", "HANG"};
  for (uint8_t i = 0; i < sizeof words / sizeof words[0]; ++i) {
    if (equals(text, len, words[i])) {
      out->kind = i; /* the words are in fg_command_kind order */
      out->value = 0;
      return FG_COMMAND_OK;
    }
  }
  if (starts_with(text, len, "out=")) {
    return parse_output(text + 4, len - 4u, out);
  }
  if (starts_with(text, len, "interval=")) {
    return parse_interval(text + 9, len - 9u, out);
  }
  return FG_COMMAND_UNKNOWN;
}

const char* fg_command_error_text(fg_command_error error) {
  switch (error) {
    case FG_COMMAND_OK:
      return "ok";
    case FG_COMMAND_EMPTY:
      return "empty command";
    case FG_COMMAND_BAD_BYTE:
      return "bad byte";
    case FG_COMMAND_UNKNOWN:
      return "unknown command";
    case FG_COMMAND_BAD_VALUE:
      return "bad value";
    case FG_COMMAND_RANGE:
      return "out of range";
    case FG_COMMAND_TOO_LONG:
      return "too long";
  }
  return "error";
}
