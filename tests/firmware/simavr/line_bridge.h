/*
 * The serial line between the simulated ATmega328P's USART0 and a pty: what the firmware sends goes to the
 * pty's master side, what the gateway writes to the slave side goes into the USART's receiver at the pace
 * the USART takes it (simavr's XON/XOFF interrupt lines say when its input FIFO has room; its own timing
 * then delivers the bytes at the configured baud rate).
 *
 * Garbage can be injected either way for the tests: towards the node at once, or towards the gateway at the
 * next frame boundary (after a 0x00 from the firmware), so that it never splits a real frame.
 */
#ifndef FG_TESTS_FIRMWARE_SIMAVR_LINE_BRIDGE_H
#define FG_TESTS_FIRMWARE_SIMAVR_LINE_BRIDGE_H

#include <stddef.h>
#include <stdint.h>

#include <simavr/sim_avr.h>

/* A byte queue of fixed capacity. */
typedef struct byte_queue {
  uint8_t bytes[8192];
  size_t start;
  size_t len;
} byte_queue;

typedef struct line_bridge {
  avr_t* avr;
  avr_irq_t* uart; /* the USART's IRQs: UART_IRQ_INPUT, _OUTPUT, _OUT_XON, _OUT_XOFF */
  int master;      /* the pty's master side */
  int xoff;        /* the USART's input FIFO is full: send nothing until XON */
  byte_queue to_node;
  byte_queue to_gateway;
  byte_queue pending_garbage; /* for the gateway, waiting for a frame boundary */
  /* Counters, reported by the `stats` event. */
  uint64_t tx_bytes;  /* bytes the firmware sent */
  uint64_t tx_frames; /* 0x00 delimiters among them */
  uint64_t rx_bytes;  /* bytes delivered into the USART */
  uint64_t dropped;   /* bytes lost because a queue was full (the pty not read, or the USART too slow) */
} line_bridge;

/* Connects to the USART's IRQs and to the pty's master side (non-blocking). */
void line_bridge_init(line_bridge* bridge, avr_t* avr, int master);

/* Moves bytes: reads what the pty has, writes what it takes, and feeds the USART while it has room. */
void line_bridge_service(line_bridge* bridge);

/* Bytes to the node's receiver now / to the gateway at the next frame boundary. */
void line_bridge_inject_to_node(line_bridge* bridge, const uint8_t* bytes, size_t len);
void line_bridge_inject_to_gateway(line_bridge* bridge, const uint8_t* bytes, size_t len);

/* Is there output the pty did not take yet? */
int line_bridge_has_output(const line_bridge* bridge);

#endif /* FG_TESTS_FIRMWARE_SIMAVR_LINE_BRIDGE_H */
