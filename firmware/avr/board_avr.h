/*
 * The ATmega328P board (Arduino Uno or Nano at 16 MHz): the hardware layer under the node core.
 *
 *   serial line   USART0, 115200 baud 8N1 (PD0 RXD, PD1 TXD: the USB adapter of an Arduino, or the Pi's UART)
 *   clock         Timer0 in CTC mode, an interrupt every millisecond
 *   output pin    PB5 (Arduino D13, the on-board LED)
 *   sensor        ADC0 (Arduino A0) against AVcc: the raw count and millivolts
 *
 * Received bytes go from the USART's interrupt into a small ring that the main loop drains; bytes are sent
 * by polling, a frame at a time (a 40-byte frame takes 3.5 ms at 115200 baud, and receiving goes on
 * meanwhile).
 */
#ifndef FG_FIRMWARE_AVR_BOARD_AVR_H
#define FG_FIRMWARE_AVR_BOARD_AVR_H

#include <stdint.h>

#include "firmware/core/board.h"

#define BOARD_BAUD 115200ul

/* Sets up the USART, Timer0, the output pin and the ADC, and fills board. Interrupts stay off. */
void board_avr_init(fg_board* board);

/* Milliseconds since board_avr_init, wrapping at 2^32 (49.7 days). */
uint32_t board_avr_millis(void);

/* Takes the next received byte into *byte; returns 0 when there is none. */
uint8_t board_avr_receive(uint8_t* byte);

/* Bytes lost since the last call: the ring was full, or the USART overran. */
uint16_t board_avr_take_lost(void);

/* Sleeps (idle mode) until an interrupt, unless a received byte is already waiting. */
void board_avr_idle(void);

#endif /* FG_FIRMWARE_AVR_BOARD_AVR_H */
