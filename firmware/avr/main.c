/*
 * fieldgate-node for the ATmega328P: the main loop around the node core (firmware/core/node.h).
 *
 * The watchdog resets the chip if the loop stops for about a second (WDTO_1S); the loop feeds it on every
 * turn, and wakes at least every millisecond from Timer0. After any reset the cause is taken from MCUSR
 * before anything else runs, and announced in the boot frame.
 */
#include <avr/interrupt.h>
#include <avr/io.h>
#include <avr/wdt.h>

#include "firmware/avr/board_avr.h"
#include "firmware/core/node.h"

/* MCUSR as it was at reset. .noinit: the C runtime's start-up must not zero it after we saved it. */
static uint8_t reset_flags __attribute__((section(".noinit")));

/* Runs in .init3, before the C runtime sets up variables: saves and clears the reset flags, and turns the
 * watchdog off. After a watchdog reset the watchdog stays on at its shortest period (16 ms) and would reset
 * the chip again during start-up; clearing WDRF first is what lets it be turned off. */
void save_reset_flags(void) __attribute__((naked, used, section(".init3")));
void save_reset_flags(void) {
  reset_flags = MCUSR;
  MCUSR = 0;
  wdt_disable();
}

static uint8_t reset_cause(uint8_t flags) {
  /* A power-on can raise BORF as well; a watchdog reset raises WDRF alone. */
  if (flags & (1u << PORF)) {
    return FG_RESET_POWER_ON;
  }
  if (flags & (1u << WDRF)) {
    return FG_RESET_WATCHDOG;
  }
  if (flags & (1u << BORF)) {
    return FG_RESET_BROWNOUT;
  }
  if (flags & (1u << EXTRF)) {
    return FG_RESET_EXTERNAL;
  }
  return FG_RESET_UNKNOWN;
}

static fg_board board;
static fg_node node;

int main(void) {
  board_avr_init(&board);
  wdt_enable(WDTO_1S);
  sei();
  fg_node_start(&node, &board, reset_cause(reset_flags), board_avr_millis());
  for (;;) {
    wdt_reset();
    uint8_t byte;
    while (board_avr_receive(&byte)) {
      fg_node_receive(&node, byte, board_avr_millis());
    }
    uint16_t lost = board_avr_take_lost();
    if (lost != 0u) {
      fg_node_note_overrun(&node, lost);
    }
    fg_node_poll(&node, board_avr_millis());
    if (node.hang) {
      /* HANG: stuck on purpose, with interrupts still running, as a firmware bug would leave it. Nothing
       * feeds the watchdog any more, so it resets the chip within a second. */
      for (;;) {
      }
    }
    board_avr_idle();
  }
}
