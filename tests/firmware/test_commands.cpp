// Command parsing (firmware/core/command.h): every command, and every way a command can be malformed.

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "firmware/core/command.h"

namespace {

fg_command_error parse(const std::string& text, fg_command* out) {
  return fg_command_parse(reinterpret_cast<const std::uint8_t*>(text.data()), text.size(), out);
}

struct Good {
  std::string text;
  fg_command_kind kind;
  std::uint32_t value;
};

TEST(FirmwareCommands, ParsesEveryCommand) {
  const Good cases[] = {
      {"PING", FG_COMMAND_PING, 0},
      {"READ", FG_COMMAND_READ, 0},
      {"VERSION", FG_COMMAND_VERSION, 0},
      {"UPTIME", FG_COMMAND_UPTIME, 0},
      {"STATS", FG_COMMAND_STATS, 0},
      {"HANG", FG_COMMAND_HANG, 0},
      {"out=1", FG_COMMAND_SET_OUTPUT, 1},
      {"out=on", FG_COMMAND_SET_OUTPUT, 1},
      {"out=true", FG_COMMAND_SET_OUTPUT, 1},
      {"out=0", FG_COMMAND_SET_OUTPUT, 0},
      {"out=off", FG_COMMAND_SET_OUTPUT, 0},
      {"out=false", FG_COMMAND_SET_OUTPUT, 0},
      {"interval=0", FG_COMMAND_SET_INTERVAL, 0},
      {"interval=1", FG_COMMAND_SET_INTERVAL, 1},
      {"interval=250", FG_COMMAND_SET_INTERVAL, 250},
      {"interval=86400000", FG_COMMAND_SET_INTERVAL, 86400000},
      {"PING\n", FG_COMMAND_PING, 0},
      {"PING\r\n", FG_COMMAND_PING, 0},
      {"PING\r", FG_COMMAND_PING, 0},
      {"out=1\r\n", FG_COMMAND_SET_OUTPUT, 1},
  };
  for (const auto& c : cases) {
    fg_command cmd{99, 99};
    ASSERT_EQ(parse(c.text, &cmd), FG_COMMAND_OK) << '"' << c.text << '"';
    EXPECT_EQ(cmd.kind, c.kind) << '"' << c.text << '"';
    EXPECT_EQ(cmd.value, c.value) << '"' << c.text << '"';
  }
}

struct Bad {
  std::string text;
  fg_command_error error;
};

TEST(FirmwareCommands, RefusesEveryMalformedCommandWithItsReason) {
  const Bad cases[] = {
      {"", FG_COMMAND_EMPTY},
      {"\n", FG_COMMAND_EMPTY},
      {"\r\n", FG_COMMAND_EMPTY},
      {"PING\n\n", FG_COMMAND_BAD_BYTE},  // only one line ending is forgiven
      {std::string("PI\0NG", 5), FG_COMMAND_BAD_BYTE},
      {"PING\t", FG_COMMAND_BAD_BYTE},
      {"\x7f", FG_COMMAND_BAD_BYTE},
      {"out=\xc3\xa9", FG_COMMAND_BAD_BYTE},  // UTF-8 is not ASCII
      {"\xff\xfe", FG_COMMAND_BAD_BYTE},
      {"ping", FG_COMMAND_UNKNOWN},  // keywords are case-sensitive
      {"PING ", FG_COMMAND_UNKNOWN},
      {" PING", FG_COMMAND_UNKNOWN},
      {"PINGPING", FG_COMMAND_UNKNOWN},
      {"PIN", FG_COMMAND_UNKNOWN},
      {"READ?", FG_COMMAND_UNKNOWN},
      {"=1", FG_COMMAND_UNKNOWN},
      {"out", FG_COMMAND_UNKNOWN},
      {"OUT=1", FG_COMMAND_UNKNOWN},
      {"led=1", FG_COMMAND_UNKNOWN},
      {"interval", FG_COMMAND_UNKNOWN},
      {"out=", FG_COMMAND_BAD_VALUE},
      {"out=2", FG_COMMAND_BAD_VALUE},
      {"out=ON", FG_COMMAND_BAD_VALUE},
      {"out=onn", FG_COMMAND_BAD_VALUE},
      {"out= 1", FG_COMMAND_BAD_VALUE},
      {"out=1=1", FG_COMMAND_BAD_VALUE},
      {"interval=", FG_COMMAND_BAD_VALUE},
      {"interval=-1", FG_COMMAND_BAD_VALUE},
      {"interval=+5", FG_COMMAND_BAD_VALUE},
      {"interval=1.5", FG_COMMAND_BAD_VALUE},
      {"interval=1s", FG_COMMAND_BAD_VALUE},
      {"interval= 5", FG_COMMAND_BAD_VALUE},
      {"interval=86400001", FG_COMMAND_RANGE},
      {"interval=4294967295", FG_COMMAND_RANGE},
      {"interval=4294967296", FG_COMMAND_RANGE},
      {"interval=99999999999999999999", FG_COMMAND_RANGE},
  };
  for (const auto& c : cases) {
    fg_command cmd{99, 99};
    EXPECT_EQ(parse(c.text, &cmd), c.error) << '"' << c.text << '"';
    EXPECT_EQ(cmd.kind, 99) << "a refused command leaves its output alone: \"" << c.text << '"';
  }
}

TEST(FirmwareCommands, EveryErrorHasItsOwnReplyText) {
  EXPECT_STREQ(fg_command_error_text(FG_COMMAND_EMPTY), "empty command");
  EXPECT_STREQ(fg_command_error_text(FG_COMMAND_BAD_BYTE), "bad byte");
  EXPECT_STREQ(fg_command_error_text(FG_COMMAND_UNKNOWN), "unknown command");
  EXPECT_STREQ(fg_command_error_text(FG_COMMAND_BAD_VALUE), "bad value");
  EXPECT_STREQ(fg_command_error_text(FG_COMMAND_RANGE), "out of range");
  EXPECT_STREQ(fg_command_error_text(FG_COMMAND_TOO_LONG), "too long");
}

}  // namespace
