/*
 * The hardware layer as the core sees it: a board is a handful of callbacks, implemented once per target
 * (firmware/avr/board_avr.c for the ATmega328P, firmware/host/board_host.c for Linux over a pty). The core
 * never touches a register, a file descriptor or a clock; it is handed the time and the bytes.
 */
#ifndef FG_FIRMWARE_CORE_BOARD_H
#define FG_FIRMWARE_CORE_BOARD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One sensor value: key=value in the DATA frame, the value written as value / 10^decimals. */
typedef struct fg_reading {
  const char* key; /* a short channel name: letters, digits, '_' or '-' (it becomes an MQTT topic level) */
  int32_t value;
  uint8_t decimals;
} fg_reading;

/* The most readings a board may report in one DATA frame. */
#define FG_BOARD_MAX_READINGS 6u

typedef struct fg_board {
  void* ctx;        /* handed back to every callback */
  const char* name; /* reported by VERSION: "atmega328p", "host" */
  /* Sends bytes on the serial line; returns when they are queued or sent. */
  void (*send)(void* ctx, const uint8_t* bytes, size_t len);
  /* Reads the sensors now into out[0..cap) and returns how many it filled (0..cap). */
  uint8_t (*read_sensors)(void* ctx, fg_reading* out, uint8_t cap);
  /* Drives the output pin: level 1 is high, 0 is low. */
  void (*set_output)(void* ctx, uint8_t level);
} fg_board;

#ifdef __cplusplus
}
#endif

#endif /* FG_FIRMWARE_CORE_BOARD_H */
