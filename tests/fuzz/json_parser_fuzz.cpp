// JsonParser on any line, at a max_depth picked by the first byte.

#include "devices/serial/json_parser.hpp"
#include "parser_fuzz_util.hpp"

using namespace fg::devices::serial;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input input(data, size);
  const std::size_t max_depth = input.take_byte() % (JsonParser::kMaxDepth + 1);
  auto parser = JsonParser::create({max_depth});
  FG_FUZZ_CHECK(parser.has_value());
  const std::string_view line = input.rest_text();
  const auto result = parser->parse(line);
  fuzz::check_result(line, result);
  return 0;
}
