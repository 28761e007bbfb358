#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace fg::devices::serial {

// A value as a parser found it: text for the raw, kv and regex parsers; number, boolean or text for JSON,
// where an integer (no fraction, no exponent) that fits 64 bits is kept exact as std::int64_t. The
// alternatives are in the order of devices::ReadingValue. Construct the text alternative from a
// std::string explicitly: a string literal would pick bool.
using Value = std::variant<double, bool, std::string, std::int64_t>;

// One channel reading out of a line, before conversion.
struct Field {
  std::string channel;
  Value value;

  bool operator==(const Field&) const = default;
};

// What a parser made of one line.
struct ParsedLine {
  std::vector<Field> fields;
  // Parts of the line that could not become a field and were skipped: kv tokens without a separator or
  // with an empty key, JSON nulls, empty keys, text with NUL bytes, and subtrees nested too deep.
  std::size_t skipped = 0;
};

}  // namespace fg::devices::serial
