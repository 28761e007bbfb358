#include "firmware/core/text.h"

uint8_t fg_text_u32(char* out, uint32_t v) {
  char reversed[10];
  uint8_t n = 0;
  do {
    reversed[n++] = (char)('0' + (char)(v % 10u));
    v /= 10u;
  } while (v != 0u);
  for (uint8_t i = 0; i < n; ++i) {
    out[i] = reversed[n - 1u - i];
  }
  return n;
}

uint8_t fg_text_fixed(char* out, int32_t v, uint8_t decimals) {
  if (decimals > 9u) {
    decimals = 9u;
  }
  uint8_t len = 0;
  /* The magnitude as unsigned, so that INT32_MIN has one too. */
  uint32_t magnitude = v < 0 ? 0u - (uint32_t)v : (uint32_t)v;
  if (v < 0) {
    out[len++] = '-';
  }
  char digits[10];
  uint8_t n = fg_text_u32(digits, magnitude);
  /* Left-pad with zeros so that there is at least one digit before the point: 5 with 2 decimals is 0.05. */
  uint8_t width = n > decimals ? n : (uint8_t)(decimals + 1u);
  for (uint8_t i = 0; i < width; ++i) {
    if (decimals != 0u && i == width - decimals) {
      out[len++] = '.';
    }
    uint8_t pad = (uint8_t)(width - n);
    out[len++] = i < pad ? '0' : digits[i - pad];
  }
  return len;
}

int fg_text_parse_u32(const uint8_t* text, size_t len, uint32_t* out) {
  if (len == 0u || len > 10u) {
    return 0;
  }
  uint32_t v = 0;
  for (size_t i = 0; i < len; ++i) {
    if (text[i] < '0' || text[i] > '9') {
      return 0;
    }
    uint32_t digit = (uint32_t)(text[i] - '0');
    if (v > (UINT32_MAX - digit) / 10u) {
      return 0;
    }
    v = v * 10u + digit;
  }
  *out = v;
  return 1;
}
