/*
 * Number formatting and parsing for the node, without printf or floating point: avr-libc's printf costs
 * about 1.5 KiB of flash, and every value the node reports is an integer or a fixed-point number.
 */
#ifndef FG_FIRMWARE_CORE_TEXT_H
#define FG_FIRMWARE_CORE_TEXT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The longest text fg_text_u32() and fg_text_fixed() write: a sign, ten digits and a decimal point. */
#define FG_TEXT_NUMBER_MAX 12u

/* Writes v in decimal to out (FG_TEXT_NUMBER_MAX bytes are enough) and returns the length; no NUL. */
uint8_t fg_text_u32(char* out, uint32_t v);

/* Writes the fixed-point number v / 10^decimals, so (2150, 2) gives "21.50" and (-5, 1) gives "-0.5".
 * decimals above 9 are taken as 9. Returns the length; no NUL. */
uint8_t fg_text_fixed(char* out, int32_t v, uint8_t decimals);

/* Reads text[0..len) as a decimal number of 1 to 10 digits that fits in 32 bits: no sign, no spaces, no
 * leading "+". Returns 1 and sets *out, or 0 for anything else (*out is then untouched). */
int fg_text_parse_u32(const uint8_t* text, size_t len, uint32_t* out);

#ifdef __cplusplus
}
#endif

#endif /* FG_FIRMWARE_CORE_TEXT_H */
