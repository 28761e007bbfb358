#include "firmware/host/board_host.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

/* Writes what the line takes now. A UART with nobody listening loses bytes rather than blocking, and so
 * does this one: a full pty drops the rest of the frame, counted, and logged when it starts and ends. */
static void host_send(void* ctx, const uint8_t* bytes, size_t len) {
  board_host* host = ctx;
  while (len > 0u) {
    ssize_t n = write(host->master, bytes, len);
    if (n > 0) {
      bytes += n;
      len -= (size_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (!host->dropping) {
      fprintf(stderr, "fieldgate-node: the line is full (is anything reading it?); dropping output\n");
      host->dropping = 1;
    }
    host->dropped += (uint32_t)len;
    return;
  }
  if (host->dropping) {
    fprintf(stderr, "fieldgate-node: the line takes output again (%lu bytes dropped so far)\n",
            (unsigned long)host->dropped);
    host->dropping = 0;
  }
}

/* A triangle wave of `steps` steps between low and high, at sample s. */
static int32_t triangle(uint32_t s, int32_t low, int32_t high, uint32_t steps) {
  uint32_t phase = s % (2u * steps);
  uint32_t up = phase < steps ? phase : 2u * steps - phase;
  return low + (int32_t)((int64_t)(high - low) * up / steps);
}

/* Simulated sensors: a temperature in hundredths of a degree between 18.00 and 24.00, a humidity in tenths
 * of a percent between 40.0 and 50.0, each drifting slowly as readings are taken. */
static uint8_t host_read_sensors(void* ctx, fg_reading* out, uint8_t cap) {
  board_host* host = ctx;
  uint32_t s = host->samples++;
  uint8_t n = 0;
  if (n < cap) {
    out[n++] = (fg_reading){"t", triangle(s, 1800, 2400, 120), 2};
  }
  if (n < cap) {
    out[n++] = (fg_reading){"h", triangle(s + 40u, 400, 500, 100), 1};
  }
  return n;
}

static void host_set_output(void* ctx, uint8_t level) {
  (void)ctx;
  fprintf(stderr, "fieldgate-node: output pin %s\n", level ? "high" : "low");
}

void board_host_init(fg_board* board, board_host* host, int master) {
  host->master = master;
  host->samples = 0;
  host->dropped = 0;
  host->dropping = 0;
  board->ctx = host;
  board->name = "host";
  board->send = host_send;
  board->read_sensors = host_read_sensors;
  board->set_output = host_set_output;
}
