#include "firmware/core/node.h"

#include <string.h>

#include "firmware/core/command.h"
#include "firmware/core/frame_writer.h"
#include "firmware/core/text.h"

const char* fg_reset_cause_name(uint8_t cause) {
  switch (cause) {
    case FG_RESET_POWER_ON:
      return "power-on";
    case FG_RESET_EXTERNAL:
      return "external";
    case FG_RESET_BROWNOUT:
      return "brownout";
    case FG_RESET_WATCHDOG:
      return "watchdog";
    default:
      return "unknown";
  }
}

static void begin(fg_node* node, fg_frame_writer* w, unsigned type) {
  fg_frame_writer_begin(w, type, node->tx_buf, sizeof node->tx_buf, FG_NODE_MAX_TEXT);
}

/* Counts a pair that did not fit; the frame goes out without it. */
static void pair(fg_node* node, fg_frame_writer* w, const char* key, const char* value, size_t len) {
  if (!fg_frame_writer_pair(w, key, value, len)) {
    ++node->counters.truncated;
  }
}

static void pair_u32(fg_node* node, fg_frame_writer* w, const char* key, uint32_t value) {
  if (!fg_frame_writer_pair_u32(w, key, value)) {
    ++node->counters.truncated;
  }
}

static void finish(fg_node* node, fg_frame_writer* w) {
  /* tx_buf holds FG_FRAME_MAX_WIRE_SIZE(FG_NODE_MAX_TEXT) and the writer keeps the payload within
   * FG_NODE_MAX_TEXT, so the encoding always fits and n is never 0. */
  size_t n = fg_frame_writer_end(w);
  node->board->send(node->board->ctx, node->tx_buf, n);
}

static void send_reading(fg_node* node) {
  fg_frame_writer w;
  fg_reading readings[FG_BOARD_MAX_READINGS];
  uint8_t count = node->board->read_sensors(node->board->ctx, readings, FG_BOARD_MAX_READINGS);
  begin(node, &w, FG_FRAME_TYPE_DATA);
  pair_u32(node, &w, "n", ++node->seq);
  for (uint8_t i = 0; i < count && i < FG_BOARD_MAX_READINGS; ++i) {
    char value[FG_TEXT_NUMBER_MAX];
    uint8_t len = fg_text_fixed(value, readings[i].value, readings[i].decimals);
    pair(node, &w, readings[i].key, value, len);
  }
  pair_u32(node, &w, "out", node->output);
  finish(node, &w);
}

/* A REPLY frame of one fixed text, "PONG" or "ERR bad value". */
static void reply_text(fg_node* node, const char* first, const char* second) {
  fg_frame_writer w;
  begin(node, &w, FG_FRAME_TYPE_REPLY);
  fg_frame_writer_text(&w, first, strlen(first));
  if (second != NULL) {
    fg_frame_writer_text(&w, " ", 1u);
    fg_frame_writer_text(&w, second, strlen(second));
  }
  finish(node, &w);
}

static void reply_stats(fg_node* node) {
  const fg_node_counters* c = &node->counters;
  /* Short names keep the reply within FG_NODE_MAX_TEXT even with every counter at 65535. */
  const struct {
    const char* key;
    uint16_t value;
  } stats[] = {{"cmd", c->commands},    {"err", c->errors},  {"empty", c->empty},     {"cobs", c->bad_cobs},
               {"short", c->too_short}, {"crc", c->bad_crc}, {"ver", c->bad_version}, {"type", c->bad_type},
               {"long", c->overlong},   {"ovr", c->overrun}, {"trunc", c->truncated}};
  fg_frame_writer w;
  begin(node, &w, FG_FRAME_TYPE_REPLY);
  fg_frame_writer_text(&w, "OK", 2u);
  for (uint8_t i = 0; i < sizeof stats / sizeof stats[0]; ++i) {
    pair_u32(node, &w, stats[i].key, stats[i].value);
  }
  finish(node, &w);
}

static void reply_error(fg_node* node, fg_command_error error) {
  ++node->counters.errors;
  reply_text(node, "ERR", fg_command_error_text(error));
}

static void execute(fg_node* node, const fg_command* command, uint32_t now_ms) {
  /* The replies of their own form first; every other command is answered "OK" and its values. */
  switch (command->kind) {
    case FG_COMMAND_PING:
      reply_text(node, "PONG", NULL);
      return;
    case FG_COMMAND_STATS:
      reply_stats(node);
      return;
    case FG_COMMAND_READ:
      send_reading(node); /* the reading itself goes out as a DATA frame, before the reply */
      break;
    default:
      break;
  }
  fg_frame_writer w;
  begin(node, &w, FG_FRAME_TYPE_REPLY);
  fg_frame_writer_text(&w, "OK", 2u);
  switch (command->kind) {
    case FG_COMMAND_READ:
      pair_u32(node, &w, "n", node->seq);
      break;
    case FG_COMMAND_VERSION:
      pair(node, &w, "fw", FG_NODE_FW_VERSION, strlen(FG_NODE_FW_VERSION));
      pair_u32(node, &w, "proto", FG_FRAME_VERSION);
      pair(node, &w, "board", node->board->name, strlen(node->board->name));
      break;
    case FG_COMMAND_UPTIME: {
      char value[FG_TEXT_NUMBER_MAX + 4];
      uint8_t len = fg_text_u32(value, node->uptime_s);
      value[len++] = '.';
      /* Three digits of milliseconds: 5 ms is ".005". */
      value[len++] = (char)('0' + node->uptime_ms / 100u);
      value[len++] = (char)('0' + node->uptime_ms / 10u % 10u);
      value[len++] = (char)('0' + node->uptime_ms % 10u);
      pair(node, &w, "up", value, len);
      break;
    }
    case FG_COMMAND_HANG:
      node->hang = 1;
      fg_frame_writer_text(&w, " hang", 5u);
      break;
    case FG_COMMAND_SET_OUTPUT:
      node->output = (uint8_t)command->value;
      node->board->set_output(node->board->ctx, node->output);
      pair_u32(node, &w, "out", node->output);
      break;
    case FG_COMMAND_SET_INTERVAL:
      node->interval_ms = command->value;
      node->last_reading_ms = now_ms; /* the next reading comes one new interval from now */
      pair_u32(node, &w, "interval", command->value);
      break;
    default:
      break;
  }
  finish(node, &w);
}

/* A delimiter arrived: judge what the decoder holds, act on it, and get ready for the next frame. */
static void end_frame(fg_node* node, uint32_t now_ms) {
  fg_node_counters* c = &node->counters;
  switch (fg_cobs_decoder_end(&node->rx)) {
    case FG_COBS_EMPTY:
      ++c->empty;
      break;
    case FG_COBS_TRUNCATED:
      ++c->bad_cobs;
      break;
    case FG_COBS_OVERFLOW:
      ++c->overlong;
      reply_error(node, FG_COMMAND_TOO_LONG);
      break;
    default: {
      const uint8_t* frame = node->rx.buf;
      size_t len = node->rx.len;
      switch (fg_frame_check(frame, len)) {
        case FG_FRAME_TOO_SHORT:
          ++c->too_short;
          break;
        case FG_FRAME_BAD_CRC:
          ++c->bad_crc;
          break;
        case FG_FRAME_BAD_VERSION:
          ++c->bad_version;
          break;
        default:
          if (FG_FRAME_HEADER_TYPE(frame[0]) != FG_FRAME_TYPE_COMMAND) {
            ++c->bad_type;
            break;
          }
          ++c->commands;
          fg_command command;
          fg_command_error error =
              fg_command_parse(frame + FG_FRAME_HEADER_SIZE, len - FG_FRAME_OVERHEAD, &command);
          if (error != FG_COMMAND_OK) {
            reply_error(node, error);
          } else {
            execute(node, &command, now_ms);
          }
          break;
      }
      break;
    }
  }
  fg_cobs_decoder_reset(&node->rx);
}

void fg_node_start(fg_node* node, const fg_board* board, uint8_t reset_cause, uint32_t now_ms) {
  memset(node, 0, sizeof *node);
  node->board = board;
  node->reset_cause = reset_cause;
  node->interval_ms = FG_NODE_DEFAULT_INTERVAL_MS;
  node->last_reading_ms = now_ms;
  node->last_poll_ms = now_ms;
  fg_cobs_decoder_begin(&node->rx, node->rx_buf, sizeof node->rx_buf);

  const uint8_t delimiter = FG_FRAME_DELIMITER;
  board->send(board->ctx, &delimiter, 1u);
  fg_frame_writer w;
  begin(node, &w, FG_FRAME_TYPE_DATA);
  const char* cause = fg_reset_cause_name(reset_cause);
  pair(node, &w, "reset", cause, strlen(cause));
  pair(node, &w, "fw", FG_NODE_FW_VERSION, strlen(FG_NODE_FW_VERSION));
  finish(node, &w);
}

void fg_node_receive(fg_node* node, uint8_t byte, uint32_t now_ms) {
  if (byte == FG_FRAME_DELIMITER) {
    end_frame(node, now_ms);
  } else {
    fg_cobs_decoder_put(&node->rx, byte);
  }
}

void fg_node_poll(fg_node* node, uint32_t now_ms) {
  uint32_t elapsed = now_ms - node->last_poll_ms;
  node->last_poll_ms = now_ms;
  /* Split into whole seconds first, so that a long gap between polls cannot overflow uptime_ms. */
  node->uptime_s += elapsed / 1000u;
  node->uptime_ms = (uint16_t)(node->uptime_ms + elapsed % 1000u);
  if (node->uptime_ms >= 1000u) {
    node->uptime_ms = (uint16_t)(node->uptime_ms - 1000u);
    ++node->uptime_s;
  }
  if (node->interval_ms != 0u && now_ms - node->last_reading_ms >= node->interval_ms) {
    node->last_reading_ms = now_ms;
    send_reading(node);
  }
}

void fg_node_note_overrun(fg_node* node, uint16_t bytes) {
  node->counters.overrun = (uint16_t)(node->counters.overrun + bytes);
}
