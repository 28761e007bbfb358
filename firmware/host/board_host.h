/*
 * The host board: the node's hardware layer on Linux. The serial line is the master side of a pty (the
 * gateway opens the slave side, published under a stable link as udev publishes /dev/serial/by-id/...),
 * the sensors are simulated, and the output pin is a line on stderr.
 */
#ifndef FG_FIRMWARE_HOST_BOARD_HOST_H
#define FG_FIRMWARE_HOST_BOARD_HOST_H

#include <stdint.h>

#include "firmware/core/board.h"

typedef struct board_host {
  int master;       /* the pty's master side: our end of the serial line */
  uint32_t samples; /* readings taken, which drive the simulated sensors */
  uint32_t dropped; /* bytes not sent because the line was full (nobody reading the pty) */
  int dropping;     /* in a run of drops, which is logged when it starts and when it ends */
} board_host;

/* Fills board with the callbacks of the host board; ctx is `host`. */
void board_host_init(fg_board* board, board_host* host, int master);

#endif /* FG_FIRMWARE_HOST_BOARD_HOST_H */
