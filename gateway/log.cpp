#include "gateway/log.hpp"

#include <unistd.h>

#include <cstdlib>
#include <string>

namespace fg::gateway {
namespace {

LogLevel g_level = LogLevel::info;
bool g_journal = false;

const char* level_word(LogLevel level) {
  switch (level) {
    case LogLevel::error:
      return "error";
    case LogLevel::warning:
      return "warning";
    case LogLevel::notice:
      return "notice";
    case LogLevel::info:
      return "info";
    case LogLevel::debug:
      return "debug";
  }
  return "?";
}

}  // namespace

std::optional<LogLevel> parse_log_level(std::string_view name) noexcept {
  for (auto level : {LogLevel::error, LogLevel::warning, LogLevel::notice, LogLevel::info, LogLevel::debug}) {
    if (name == level_word(level)) {
      return level;
    }
  }
  return std::nullopt;
}

void set_log_level(LogLevel level) noexcept {
  g_level = level;
}
LogLevel log_level() noexcept {
  return g_level;
}

void detect_journal() noexcept {
  g_journal = std::getenv("JOURNAL_STREAM") != nullptr;
}

void write_log(LogLevel level, std::string_view message) noexcept {
  std::string line = g_journal ? fmt::format("<{}>{}\n", static_cast<int>(level), message)
                               : fmt::format("fieldgate: {}: {}\n", level_word(level), message);
  // One write(2) per line, so lines from a dying process are whole.
  (void)!::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace fg::gateway
