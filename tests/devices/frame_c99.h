/* The C99-compiled wrappers of frame_c99.c. */
#ifndef FG_TESTS_DEVICES_FRAME_C99_H
#define FG_TESTS_DEVICES_FRAME_C99_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

uint16_t fg_test_c99_crc16(const uint8_t* data, size_t len);
size_t fg_test_c99_frame_encode(unsigned type, const uint8_t* payload, size_t len, uint8_t* out, size_t cap);
size_t fg_test_c99_cobs_decode(const uint8_t* src, size_t len, uint8_t* dst, size_t cap);

#ifdef __cplusplus
}
#endif

#endif
