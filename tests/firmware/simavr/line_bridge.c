#include "tests/firmware/simavr/line_bridge.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <simavr/avr_uart.h>
#include <simavr/sim_io.h>
#include <simavr/sim_irq.h>

static size_t queue_room(const byte_queue* q) {
  return sizeof q->bytes - q->len;
}

/* Appends what fits and returns how many bytes did not. */
static size_t queue_push(byte_queue* q, const uint8_t* bytes, size_t len) {
  size_t n = len < queue_room(q) ? len : queue_room(q);
  for (size_t i = 0; i < n; ++i) {
    q->bytes[(q->start + q->len + i) % sizeof q->bytes] = bytes[i];
  }
  q->len += n;
  return len - n;
}

static void queue_drop_front(byte_queue* q, size_t n) {
  q->start = (q->start + n) % sizeof q->bytes;
  q->len -= n;
}

/* The contiguous bytes at the front. */
static size_t queue_front(const byte_queue* q, const uint8_t** at) {
  *at = q->bytes + q->start;
  size_t to_end = sizeof q->bytes - q->start;
  return q->len < to_end ? q->len : to_end;
}

/* Feeds the USART until it says XOFF or there is nothing left. Raising UART_IRQ_INPUT may call on_xoff
 * before it returns, which is why the flag is checked before every byte. */
static void feed_node(line_bridge* b) {
  while (!b->xoff && b->to_node.len > 0u) {
    const uint8_t* at;
    queue_front(&b->to_node, &at);
    uint8_t byte = at[0];
    queue_drop_front(&b->to_node, 1u);
    ++b->rx_bytes;
    avr_raise_irq(b->uart + UART_IRQ_INPUT, byte);
  }
}

static void on_output(struct avr_irq_t* irq, uint32_t value, void* param) {
  (void)irq;
  line_bridge* b = param;
  uint8_t byte = (uint8_t)value;
  ++b->tx_bytes;
  b->dropped += queue_push(&b->to_gateway, &byte, 1u);
  if (byte == 0u) {
    ++b->tx_frames;
    /* A frame just ended: garbage for the gateway goes in here, between two frames. */
    while (b->pending_garbage.len > 0u) {
      const uint8_t* at;
      size_t n = queue_front(&b->pending_garbage, &at);
      b->dropped += queue_push(&b->to_gateway, at, n);
      queue_drop_front(&b->pending_garbage, n);
    }
  }
}

static void on_xon(struct avr_irq_t* irq, uint32_t value, void* param) {
  (void)irq;
  (void)value;
  line_bridge* b = param;
  b->xoff = 0;
  feed_node(b);
}

static void on_xoff(struct avr_irq_t* irq, uint32_t value, void* param) {
  (void)irq;
  (void)value;
  line_bridge* b = param;
  b->xoff = 1;
}

void line_bridge_init(line_bridge* b, avr_t* avr, int master) {
  memset(b, 0, sizeof *b);
  b->avr = avr;
  b->master = master;
  b->xoff = 1; /* until the firmware enables its receiver, which raises XON */
  fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
  b->uart = avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), 0);
  avr_irq_register_notify(b->uart + UART_IRQ_OUTPUT, on_output, b);
  avr_irq_register_notify(b->uart + UART_IRQ_OUT_XON, on_xon, b);
  avr_irq_register_notify(b->uart + UART_IRQ_OUT_XOFF, on_xoff, b);
}

void line_bridge_service(line_bridge* b) {
  /* Read only what the queue can hold: the rest waits in the pty, whose buffer then pushes back on the
   * gateway as a slow UART would. */
  while (queue_room(&b->to_node) > 0u) {
    uint8_t buf[512];
    size_t want = queue_room(&b->to_node) < sizeof buf ? queue_room(&b->to_node) : sizeof buf;
    ssize_t n = read(b->master, buf, want);
    if (n <= 0) {
      break;
    }
    queue_push(&b->to_node, buf, (size_t)n);
  }
  while (b->to_gateway.len > 0u) {
    const uint8_t* at;
    size_t n = queue_front(&b->to_gateway, &at);
    ssize_t written = write(b->master, at, n);
    if (written <= 0) {
      break; /* EAGAIN: the pty is full until the gateway reads */
    }
    queue_drop_front(&b->to_gateway, (size_t)written);
  }
  feed_node(b);
}

void line_bridge_inject_to_node(line_bridge* b, const uint8_t* bytes, size_t len) {
  b->dropped += queue_push(&b->to_node, bytes, len);
  feed_node(b);
}

void line_bridge_inject_to_gateway(line_bridge* b, const uint8_t* bytes, size_t len) {
  b->dropped += queue_push(&b->pending_garbage, bytes, len);
}

int line_bridge_has_output(const line_bridge* b) {
  return b->to_gateway.len > 0u;
}
