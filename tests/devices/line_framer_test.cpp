#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "devices/serial/line_framer.hpp"
#include "serial_test_util.hpp"

namespace fg::devices::serial::test {
namespace {

using Lines = std::vector<std::string>;

LineFramer make(Collected& out, std::string delimiter = "\n", std::size_t max_length = 64,
                bool skip_empty = true) {
  auto framer = LineFramer::create({std::move(delimiter), max_length, skip_empty}, out.handler());
  EXPECT_TRUE(framer.has_value());
  return std::move(*framer);
}

TEST(LineFramer, SplitsAtNewline) {
  Collected out;
  auto framer = make(out);
  framer.feed(bytes("t=21.5\nh=40\npartial"));
  EXPECT_EQ(out.frames, (Lines{"t=21.5", "h=40"}));
  EXPECT_EQ(out.types, (std::vector<std::uint8_t>{0, 0}));
  framer.feed(bytes(" line\n"));
  EXPECT_EQ(out.frames, (Lines{"t=21.5", "h=40", "partial line"}));
  EXPECT_EQ(framer.counters().frames, 3u);
  EXPECT_EQ(framer.counters().bytes, 25u);
  EXPECT_EQ(framer.counters().dropped_bytes, 0u);
}

TEST(LineFramer, CrLfSplitAcrossChunks) {
  Collected out;
  auto framer = make(out, "\r\n");
  framer.feed(bytes("a=1\r"));
  EXPECT_TRUE(out.frames.empty());
  framer.feed(bytes("\nb=2\r"));
  framer.feed(bytes("x\r\n"));  // a lone \r is part of the line
  EXPECT_EQ(out.frames, (Lines{"a=1", "b=2\rx"}));
}

// With the default delimiter "\n", a \r just before it belongs to the delimiter: devices that end lines
// with CRLF get the same lines, the same limit and the same empty lines as those that send LF alone.
TEST(LineFramer, DefaultDelimiterTakesATrailingCarriageReturn) {
  const std::string stream = "a=1\r\nb=2\n\r\nc\rd\ne\r\r\n";
  const Lines expected = {"a=1", "b=2", "c\rd", "e\r"};  // only the \r right before the \n goes
  for (std::size_t split = 0; split <= stream.size(); ++split) {
    Collected out;
    auto framer = make(out);
    framer.feed(bytes(std::string_view(stream).substr(0, split)));
    framer.feed(bytes(std::string_view(stream).substr(split)));
    EXPECT_EQ(out.frames, expected) << "split at " << split;
    EXPECT_EQ(framer.counters().empty, 1u) << "split at " << split;
    EXPECT_EQ(framer.counters().dropped_bytes, 2u) << "the empty line's \\r\\n";
  }
}

TEST(LineFramer, CarriageReturnOnlyLineIsEmptyNotALine) {
  Collected delivered;
  auto delivering = make(delivered, "\n", 64, false);
  delivering.feed(bytes("\r\n\n"));
  EXPECT_EQ(delivered.frames, (Lines{"", ""}));
}

TEST(LineFramer, TrailingCarriageReturnDoesNotCountTowardsTheLimit) {
  Collected out;
  auto framer = make(out, "\n", 8);
  const std::size_t capacity = framer.buffer_capacity();
  framer.feed(bytes("12345678\r\n123456789\r\nok\r\n12345678\rx\nok2\n"));
  EXPECT_EQ(out.frames, (Lines{"12345678", "ok", "ok2"}));
  EXPECT_EQ(framer.counters().overlong, 2u);  // nine bytes; and eight with a \r that turned out to be content
  EXPECT_EQ(framer.buffer_capacity(), capacity);
  EXPECT_EQ(capacity, 9u);  // the line and a \r that may yet be the delimiter's
}

// Any other delimiter is matched byte for byte, so what precedes it stays in the line.
TEST(LineFramer, OtherDelimitersKeepACarriageReturn) {
  Collected out;
  auto framer = make(out, "END");
  framer.feed(bytes("a\rEND\rEND"));
  EXPECT_EQ(out.frames, (Lines{"a\r", "\r"}));
  Collected cr_out;
  auto cr_framer = make(cr_out, "\r");
  cr_framer.feed(bytes("a\r\nb\r"));
  EXPECT_EQ(cr_out.frames, (Lines{"a", "\nb"}));
}

TEST(LineFramer, MultiByteDelimiterEveryChunkingGivesTheSameLines) {
  const std::string stream = "oneENDtwoENENDthreeEEND4ENDEND";
  const Lines expected = {"one", "twoEN", "threeE", "4"};
  // Every two-chunk split, byte at a time, and random chunkings.
  for (std::size_t split = 0; split <= stream.size(); ++split) {
    Collected out;
    auto framer = make(out, "END");
    framer.feed(bytes(std::string_view(stream).substr(0, split)));
    framer.feed(bytes(std::string_view(stream).substr(split)));
    EXPECT_EQ(out.frames, expected) << "split at " << split;
    EXPECT_EQ(framer.counters().empty, 1u);
  }
  Collected byte_out;
  auto byte_framer = make(byte_out, "END");
  feed_byte_at_a_time(byte_framer, bytes(stream));
  EXPECT_EQ(byte_out.frames, expected);
  std::mt19937 rng(1);
  for (int round = 0; round < 50; ++round) {
    Collected out;
    auto framer = make(out, "END");
    feed_in_random_chunks(framer, bytes(stream), rng, 5);
    EXPECT_EQ(out.frames, expected);
  }
}

// A delimiter whose prefix repeats inside it: a naive matcher that restarts from scratch after a mismatch
// misses "aab" in "aaab".
TEST(LineFramer, SelfOverlappingDelimiter) {
  Collected out;
  auto framer = make(out, "aab");
  feed_byte_at_a_time(framer, bytes("xaaabyaabaab"));
  EXPECT_EQ(out.frames, (Lines{"xa", "y"}));
  EXPECT_EQ(framer.counters().empty, 1u);
}

TEST(LineFramer, EmptyLinesSkippedOrDelivered) {
  Collected skipped;
  auto skipping = make(skipped, "\n", 64, true);
  skipping.feed(bytes("\n\na\n\n"));
  EXPECT_EQ(skipped.frames, (Lines{"a"}));
  EXPECT_EQ(skipping.counters().empty, 3u);
  EXPECT_EQ(skipping.counters().dropped_bytes, 3u);

  Collected delivered;
  auto delivering = make(delivered, "\n", 64, false);
  delivering.feed(bytes("\n\na\n\n"));
  EXPECT_EQ(delivered.frames, (Lines{"", "", "a", ""}));
  EXPECT_EQ(delivering.counters().empty, 0u);
}

TEST(LineFramer, LineOfExactlyMaxLengthPassesOneMoreIsOverlong) {
  Collected out;
  auto framer = make(out, "\r\n", 8);
  framer.feed(bytes("12345678\r\n123456789\r\nok\r\n"));
  EXPECT_EQ(out.frames, (Lines{"12345678", "ok"}));
  EXPECT_EQ(framer.counters().overlong, 1u);
  EXPECT_EQ(framer.counters().dropped_bytes, 11u);  // nine bytes and the delimiter
}

// A line at the limit followed by what looks like the start of the delimiter but is not: the buffer holds
// the line and the \r, and must not grow when the next byte shows the \r was line content after all.
TEST(LineFramer, PartialDelimiterAtTheLimitDoesNotGrowTheBuffer) {
  Collected out;
  auto framer = make(out, "\r\n", 4);
  const std::size_t capacity = framer.buffer_capacity();
  EXPECT_EQ(capacity, 5u);
  framer.feed(bytes("abcd\rx\r\nabcd\r\n"));
  EXPECT_EQ(out.frames, (Lines{"abcd"}));
  EXPECT_EQ(framer.counters().overlong, 1u);
  EXPECT_EQ(framer.counters().dropped_bytes, 8u);
  EXPECT_EQ(framer.buffer_capacity(), capacity);
}

TEST(LineFramer, MegabyteWithoutDelimiterThenGoodLine) {
  Collected out;
  auto framer = make(out, "\r\n", 256);
  const std::size_t capacity = framer.buffer_capacity();
  EXPECT_LE(capacity, 256u + 2u);
  std::mt19937 rng(9);
  std::vector<std::uint8_t> junk(1 << 20);
  for (auto& b : junk) {
    b = static_cast<std::uint8_t>('A' + rng() % 26);
  }
  // A \r at the end of a chunk must not confuse the matcher either.
  junk[4095] = '\r';
  feed_in_random_chunks(framer, junk, rng, 4096);
  EXPECT_TRUE(out.frames.empty());
  EXPECT_EQ(framer.counters().overlong, 1u);
  EXPECT_EQ(framer.buffer_capacity(), capacity);  // never grew
  framer.feed(bytes("\r\nt=21.5\r\n"));
  EXPECT_EQ(out.frames, (Lines{"t=21.5"}));
  EXPECT_EQ(framer.counters().overlong, 1u);
  EXPECT_EQ(framer.counters().frames, 1u);
  EXPECT_EQ(framer.counters().dropped_bytes, (1u << 20) + 2u);
  EXPECT_EQ(framer.counters().bytes, (1u << 20) + 10u);
}

TEST(LineFramer, NulAndInvalidUtf8PassThroughUntouched) {
  // Framing is byte-exact; the text policy is the parsers' business.
  Collected out;
  auto framer = make(out);
  const std::string line("a\0b\xff\xc0\x80", 6);
  framer.feed(bytes(line + "\n"));
  ASSERT_EQ(out.frames.size(), 1u);
  EXPECT_EQ(out.frames[0], line);
}

TEST(LineFramer, NulAsDelimiter) {
  Collected out;
  auto framer = make(out, std::string(1, '\0'));
  framer.feed(bytes(std::string_view("a\0bc\0", 5)));
  EXPECT_EQ(out.frames, (Lines{"a", "bc"}));
}

TEST(LineFramer, ResetDropsPartialLineAndMatchState) {
  Collected out;
  auto framer = make(out, "\r\n");
  framer.feed(bytes("stale\r"));
  framer.reset();
  framer.feed(bytes("\nfresh\r\n"));
  // The \n after reset does not complete the old \r, so it starts the new line.
  EXPECT_EQ(out.frames, (Lines{"\nfresh"}));
  EXPECT_EQ(framer.counters().discarded, 1u);
  EXPECT_EQ(framer.counters().dropped_bytes, 6u);
  framer.reset();
  EXPECT_EQ(framer.counters().discarded, 1u);  // nothing partial, nothing discarded
}

TEST(LineFramer, ResetEndsOverlongDiscard) {
  Collected out;
  auto framer = make(out, "\n", 4);
  framer.feed(bytes("0123456789"));
  framer.reset();
  framer.feed(bytes("ok\n"));
  EXPECT_EQ(out.frames, (Lines{"ok"}));
  EXPECT_EQ(framer.counters().overlong, 1u);
  EXPECT_EQ(framer.counters().discarded, 1u);
}

TEST(LineFramer, SurvivesMove) {
  Collected out;
  auto first = make(out);
  first.feed(bytes("par"));
  LineFramer second = std::move(first);
  second.feed(bytes("tial\n"));
  EXPECT_EQ(out.frames, (Lines{"partial"}));
}

TEST(LineFramer, ConfigErrors) {
  Collected out;
  EXPECT_FALSE(LineFramer::create({"", 10, true}, out.handler()).has_value());
  EXPECT_FALSE(LineFramer::create({std::string(17, '-'), 10, true}, out.handler()).has_value());
  EXPECT_TRUE(LineFramer::create({std::string(16, '-'), 10, true}, out.handler()).has_value());
  EXPECT_FALSE(LineFramer::create({"\n", 0, true}, out.handler()).has_value());
  EXPECT_FALSE(LineFramer::create({"\n", LineFramer::kMaxLineLength + 1, true}, out.handler()).has_value());
  EXPECT_FALSE(LineFramer::create({"\n", 10, true}, nullptr).has_value());
  const auto error = LineFramer::create({"", 10, true}, out.handler());
  ASSERT_FALSE(error.has_value());
  EXPECT_EQ(error.error().message, "line delimiter must not be empty");
}

}  // namespace
}  // namespace fg::devices::serial::test
