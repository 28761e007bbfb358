#pragma once
// Checks text against Prometheus' text exposition format 0.0.4 (`fieldgate status --prometheus`): every
// line a # HELP, a # TYPE or a sample `name{label="value",...} number`, and each family's samples
// together after its # TYPE, as node_exporter's textfile collector requires.

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <sstream>
#include <string>

namespace fg::test {

// One line of the text format 0.0.4: HELP, TYPE, or a sample with optional labels.
inline ::testing::AssertionResult IsExpositionText(const std::string& text) {
  static const std::regex help(R"(^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*$)");
  static const std::regex type(R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|untyped)$)");
  static const std::regex sample(
      R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\["\\n])*",?)*\})? (-?[0-9.eE+-]+|NaN|[+-]Inf)$)");
  std::istringstream in(text);
  std::string typed;           // the family whose # TYPE came last
  std::set<std::string> done;  // families already ended
  std::smatch m;
  for (std::string line; std::getline(in, line);) {
    if (std::regex_match(line, help)) {
      continue;
    }
    if (std::regex_match(line, m, type)) {
      if (!typed.empty()) {
        done.insert(typed);
      }
      typed = m[1];
      if (done.contains(typed)) {
        return ::testing::AssertionFailure() << "family " << typed << " appears twice";
      }
      continue;
    }
    if (!std::regex_match(line, m, sample)) {
      return ::testing::AssertionFailure() << "not an exposition line: " << line;
    }
    if (m[1] != typed) {
      return ::testing::AssertionFailure()
             << "sample outside its family (after # TYPE " << typed << "): " << line;
    }
  }
  if (text.empty() || text.back() != '\n') {
    return ::testing::AssertionFailure() << "the text must end with a newline";
  }
  return ::testing::AssertionSuccess();
}

}  // namespace fg::test
