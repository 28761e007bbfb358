#pragma once
// Helpers of the config tests: parse a text that must parse, or collect the issues of one that must not.

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "gateway/config/config.hpp"

namespace fg::gateway::test_support {

inline std::string join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) {
    out += line + "\n";
  }
  return out;
}

// Every issue of a file that must not parse, formatted.
inline std::vector<std::string> issues(std::string_view text) {
  auto config = parse_config(text, "site.toml");
  std::vector<std::string> out;
  if (config) {
    ADD_FAILURE() << "the config parsed, but should not have:\n" << text;
    return out;
  }
  for (const auto& issue : config.error()) {
    out.push_back(issue.format());
  }
  return out;
}

// The one issue of a file that must not parse.
inline std::string issue(std::string_view text) {
  const auto all = issues(text);
  EXPECT_EQ(all.size(), 1u) << join(all);
  return all.empty() ? std::string() : all.front();
}

// A file that must parse.
inline Config parse(std::string_view text) {
  auto config = parse_config(text, "site.toml");
  if (!config) {
    std::vector<std::string> lines;
    for (const auto& issue : config.error()) {
      lines.push_back(issue.format());
    }
    ADD_FAILURE() << "the config did not parse:\n" << join(lines) << "in:\n" << text;
    return Config{};
  }
  return std::move(*config);
}

}  // namespace fg::gateway::test_support
