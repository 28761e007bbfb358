// The firmware and the gateway speak one protocol (firmware/protocol/frame.h): frames the firmware's code
// builds are accepted by devices/' CobsFramer, and frames devices/' encoder builds are accepted by the
// firmware. The one test program that links fg_devices; devices/ itself is not changed for it.

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "devices/serial/cobs_encoder.hpp"
#include "devices/serial/cobs_framer.hpp"
#include "firmware/core/frame_writer.h"
#include "tests/firmware/node_harness.hpp"

namespace fg::firmware::test {
namespace {

namespace ds = fg::devices::serial;

struct Received {
  unsigned type;
  std::string text;
  bool operator==(const Received&) const = default;
};

// Feeds `wire` to a devices/ CobsFramer in chunks of `chunk` bytes; returns the frames and the counters.
std::pair<std::vector<Received>, ds::FramerCounters> gateway_reads(const std::string& wire, std::size_t chunk,
                                                                   std::size_t max_payload = 256) {
  std::vector<Received> got;
  auto framer = ds::CobsFramer::create({max_payload}, [&](const ds::Frame& f) {
    got.push_back({f.type, std::string(f.text())});
  });
  EXPECT_TRUE(framer.has_value());
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(wire.data());
  for (std::size_t at = 0; at < wire.size(); at += chunk) {
    framer->feed({bytes + at, std::min(chunk, wire.size() - at)});
  }
  return {got, framer->counters()};
}

std::string devices_frame(std::uint8_t type, const std::string& text) {
  auto bytes = ds::encode_cobs_frame(type, {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
  return std::string(bytes.begin(), bytes.end());
}

TEST(FirmwareDevicesFraming, EverythingTheNodeSendsIsAcceptedByTheGatewaysFramer) {
  NodeHarness h;
  h.start(FG_RESET_WATCHDOG);
  for (std::uint32_t t = 1000; t <= 5000; t += 1000) {
    h.poll(t);
  }
  for (const char* cmd : {"PING", "READ", "VERSION", "UPTIME", "STATS", "out=1", "interval=5", "bogus", ""}) {
    h.receive(command(cmd));
  }
  h.receive(command(std::string(200, 'x')));  // ERR too long
  const std::string wire = h.wire();
  std::vector<Received> expected;
  for (const auto& f : h.take_frames()) {
    ASSERT_TRUE(f.intact);
    expected.push_back({f.type, f.text});
  }
  ASSERT_EQ(expected.size(), 17u);
  EXPECT_EQ(expected[0], (Received{FG_FRAME_TYPE_DATA, "reset=watchdog fw=" FG_NODE_FW_VERSION}));
  EXPECT_EQ(expected[16], (Received{FG_FRAME_TYPE_REPLY, "ERR too long"}));

  for (std::size_t chunk : {std::size_t{1}, std::size_t{3}, std::size_t{64}, wire.size()}) {
    auto [got, counters] = gateway_reads(wire, chunk);
    EXPECT_EQ(got, expected) << "chunks of " << chunk;
    EXPECT_EQ(counters.frames, expected.size());
    EXPECT_EQ(counters.empty, 1u) << "the node's lone delimiter at boot";
    EXPECT_EQ(counters.dropped_bytes, 1u) << "and nothing else dropped";
  }
}

// The frame writer at the edges of COBS blocks (a run of 254 non-zero bytes closes a block) and at its
// largest payload.
TEST(FirmwareDevicesFraming, LongFramesFromTheFirmwaresWriterAreAccepted) {
  for (std::size_t len : {0, 1, 250, 251, 252, 253, 254, 255}) {
    std::string text(len, 'k');
    std::vector<std::uint8_t> out(FG_FRAME_MAX_WIRE_SIZE(255));
    fg_frame_writer w;
    fg_frame_writer_begin(&w, FG_FRAME_TYPE_DATA, out.data(), out.size(), 255);
    ASSERT_TRUE(fg_frame_writer_text(&w, text.data(), text.size()));
    std::size_t n = fg_frame_writer_end(&w);
    ASSERT_GT(n, 0u);
    auto [got, counters] = gateway_reads(std::string(out.begin(), out.begin() + n), 7);
    ASSERT_EQ(got.size(), 1u) << len << " bytes";
    EXPECT_EQ(got[0], (Received{FG_FRAME_TYPE_DATA, text})) << len << " bytes";
    EXPECT_EQ(counters.dropped_bytes, 0u);
  }
}

TEST(FirmwareDevicesFraming, CommandsFromTheGatewaysEncoderAreAcceptedByTheNode) {
  NodeHarness h;
  h.start();
  h.take_frames();
  const std::pair<const char*, const char*> cases[] = {
      {"PING", "PONG"},
      {"VERSION", "OK fw=" FG_NODE_FW_VERSION " proto=1 board=test"},
      {"out=1", "OK out=1"},
      {"interval=2000", "OK interval=2000"},
      {"UPTIME", "OK up=0.000"},
      {"HANG", "OK hang"},
      {"nope", "ERR unknown command"}};
  for (const auto& [cmd, reply] : cases) {
    h.receive(devices_frame(FG_FRAME_TYPE_COMMAND, cmd));
    auto frames = h.take_frames();
    ASSERT_EQ(frames.size(), 1u) << cmd;
    EXPECT_EQ(frames[0].type, FG_FRAME_TYPE_REPLY) << cmd;
    EXPECT_EQ(frames[0].text, reply) << cmd;
  }
  EXPECT_EQ(h.node.counters.commands, 7);
  EXPECT_EQ(h.node.counters.bad_crc + h.node.counters.bad_cobs + h.node.counters.too_short, 0);
}

// Beyond the node's command buffer, the firmware's decoder (frame.h's, which the node uses) still reads the
// gateway's frames of any length right, COBS block edges included.
TEST(FirmwareDevicesFraming, LongFramesFromTheGatewaysEncoderDecodeInTheFirmwaresDecoder) {
  for (std::size_t len : {0, 1, 250, 251, 252, 253, 254, 255, 507, 508, 1000}) {
    std::string text(len, 'q');
    std::string wire = devices_frame(FG_FRAME_TYPE_COMMAND, text);
    std::vector<std::uint8_t> buf(len + FG_FRAME_OVERHEAD);
    fg_cobs_decoder d;
    fg_cobs_decoder_begin(&d, buf.data(), buf.size());
    ASSERT_EQ(wire.back(), '\0');
    for (std::size_t i = 0; i + 1 < wire.size(); ++i) {
      fg_cobs_decoder_put(&d, static_cast<std::uint8_t>(wire[i]));
    }
    ASSERT_EQ(fg_cobs_decoder_end(&d), FG_COBS_OK) << len;
    ASSERT_EQ(fg_frame_check(buf.data(), d.len), FG_FRAME_OK) << len;
    EXPECT_EQ(FG_FRAME_HEADER_TYPE(buf[0]), FG_FRAME_TYPE_COMMAND);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(buf.data()) + 1, d.len - FG_FRAME_OVERHEAD), text);
  }
}

TEST(FirmwareDevicesFraming, GarbageBetweenTheNodesFramesIsCountedAndTheFramesStillArrive) {
  NodeHarness h;
  h.start();
  h.take_frames();
  std::string wire;
  for (std::uint32_t t = 1000; t <= 3000; t += 1000) {
    h.poll(t);
    wire += h.wire();
    h.take_frames();
    wire += std::string("\x05\x11\x22\x33\x44\0", 6);  // a bad CRC
    wire += std::string("\x07\x01\0", 3);              // a delimiter inside a block
  }
  auto [got, counters] = gateway_reads(wire, 5);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[2], (Received{FG_FRAME_TYPE_DATA, "n=3 t=21.50 h=40.5 out=0"}));
  EXPECT_EQ(counters.bad_crc, 3u);
  EXPECT_EQ(counters.bad_cobs, 3u);
  EXPECT_EQ(counters.dropped_bytes, 27u);
}

}  // namespace
}  // namespace fg::firmware::test
