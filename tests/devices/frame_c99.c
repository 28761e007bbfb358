/* Compiled as C99 with -pedantic: proves firmware/protocol/frame.h is the C the firmware needs, and gives
 * the tests a C-compiled encoder and CRC to compare with the C++ side. */
#include "firmware/protocol/frame.h"

#include "frame_c99.h"

uint16_t fg_test_c99_crc16(const uint8_t* data, size_t len) {
  return fg_crc16(data, len);
}

size_t fg_test_c99_frame_encode(unsigned type, const uint8_t* payload, size_t len, uint8_t* out, size_t cap) {
  return fg_frame_encode(type, payload, len, out, cap);
}

size_t fg_test_c99_cobs_decode(const uint8_t* src, size_t len, uint8_t* dst, size_t cap) {
  return fg_cobs_decode(src, len, dst, cap);
}
