// KvParser on any line, with the default separators or a few configured ones picked by the first byte.

#include <array>

#include "devices/serial/kv_parser.hpp"
#include "parser_fuzz_util.hpp"

using namespace fg::devices::serial;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::array<KvParser, 4> parsers = {
      std::move(*KvParser::create({})),
      std::move(*KvParser::create({",", "="})),
      std::move(*KvParser::create({";", ":"})),
      std::move(*KvParser::create({", ", ":="})),
  };
  fuzz::Input input(data, size);
  const KvParser& parser = parsers[input.take_byte() % parsers.size()];
  const std::string_view line = input.rest_text();
  const auto result = parser.parse(line);
  fuzz::check_result(line, result);
  if (result) {
    for (const Field& field : result->fields) {
      // Keys and values are pieces of the line.
      FG_FUZZ_CHECK(line.find(field.channel) != std::string_view::npos);
      FG_FUZZ_CHECK(line.find(std::get<std::string>(field.value)) != std::string_view::npos);
      FG_FUZZ_CHECK(trim_space(field.channel) == field.channel);
    }
  }
  return 0;
}
