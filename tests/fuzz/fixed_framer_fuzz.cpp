// FixedFramer: any bytes, record sizes 1..64, any chunking. Every record has the configured size, records
// are the stream cut in order, and whole and chunked feeds agree.

#include <cstring>
#include <string>
#include <vector>

#include "devices/serial/fixed_framer.hpp"
#include "fuzz_util.hpp"

using namespace fg::devices::serial;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input input(data, size);
  const std::size_t record_size = 1 + input.take_byte() % 64;
  const std::span<const std::uint8_t> stream = input.rest();

  const auto run = [&](bool chunked) {
    std::vector<std::string> records;
    auto framer = FixedFramer::create({record_size}, [&](const Frame& frame) {
      FG_FUZZ_CHECK(frame.payload.size() == record_size);
      const std::size_t at = records.size() * record_size;
      FG_FUZZ_CHECK(std::memcmp(frame.payload.data(), stream.data() + at, record_size) == 0);
      records.emplace_back(frame.text());
    });
    FG_FUZZ_CHECK(framer.has_value());
    if (chunked) {
      fuzz::feed_in_chunks(*framer, stream, static_cast<std::uint32_t>(size * 40503u));
    } else {
      framer->feed(stream);
    }
    FG_FUZZ_CHECK(records.size() == stream.size() / record_size);
    FG_FUZZ_CHECK(framer->counters().frames == records.size());
    FG_FUZZ_CHECK(framer->buffer_capacity() <= record_size);
    framer->reset();
    FG_FUZZ_CHECK(framer->counters().dropped_bytes == stream.size() % record_size);
    return records;
  };

  FG_FUZZ_CHECK(run(false) == run(true));
  return 0;
}
