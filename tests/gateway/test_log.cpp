#include "gateway/log.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

namespace fg::gateway {
namespace {

std::string logged(LogLevel level, const std::string& message) {
  testing::internal::CaptureStderr();
  write_log(level, message);
  return testing::internal::GetCapturedStderr();
}

TEST(Log, JournalGetsSyslogPriorityPrefixes) {
  ::setenv("JOURNAL_STREAM", "8:12345", 1);
  detect_journal();
  EXPECT_EQ(logged(LogLevel::error, "port gone"), "<3>port gone\n");
  EXPECT_EQ(logged(LogLevel::warning, "slow broker"), "<4>slow broker\n");
  EXPECT_EQ(logged(LogLevel::debug, "x"), "<7>x\n");
  ::unsetenv("JOURNAL_STREAM");
  detect_journal();
}

TEST(Log, ElsewhereTheLevelInWords) {
  ::unsetenv("JOURNAL_STREAM");
  detect_journal();
  EXPECT_EQ(logged(LogLevel::notice, "stopped"), "fieldgate: notice: stopped\n");
}

TEST(Log, LinesAboveTheLevelAreNotWritten) {
  set_log_level(LogLevel::warning);
  testing::internal::CaptureStderr();
  log(LogLevel::info, "chatty {}", 1);
  log(LogLevel::error, "important {}", 2);
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "fieldgate: error: important 2\n");
  set_log_level(LogLevel::info);
}

TEST(Log, LevelNames) {
  EXPECT_EQ(parse_log_level("debug"), LogLevel::debug);
  EXPECT_EQ(parse_log_level("loud"), std::nullopt);
}

}  // namespace
}  // namespace fg::gateway
