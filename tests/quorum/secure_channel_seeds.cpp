// Writes the seed corpus of fuzz_secure_channel (tests/fuzz/secure_channel_fuzz_setup.hpp) into DIR:
//   secure_channel_seeds tests/fuzz/corpus/fuzz_secure_channel

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "tests/fuzz/secure_channel_fuzz_setup.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir);
  for (const auto& [name, bytes] : fg::quorum::fuzz::seed_inputs()) {
    std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out) {
      std::fprintf(stderr, "%s: cannot write\n", (dir / name).c_str());
      return 1;
    }
  }
  return 0;
}
