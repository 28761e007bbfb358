// RawParser on any line.

#include "devices/serial/raw_parser.hpp"
#include "parser_fuzz_util.hpp"

using namespace fg::devices::serial;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const RawParser parser = std::move(*RawParser::create({}));
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  const auto result = parser.parse(line);
  fuzz::check_result(line, result);
  if (result) {
    FG_FUZZ_CHECK(result->fields.size() == 1);
    FG_FUZZ_CHECK(std::get<std::string>(result->fields[0].value) == trim_space(line));
  }
  return 0;
}
