#pragma once
// What the GPIO tests on kernel-shaped directory trees share.

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace fg::test {

// The whole content of a file of the fake tree (what the device wrote there).
inline std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace fg::test
