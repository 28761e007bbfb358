#pragma once
// Shared parts of the firmware's end-to-end tests: E2eTest (tests/e2e/e2e_support.hpp: a real broker, the
// real fieldgate, a real subscriber) plus what talking to a sensor node takes: its [[serial]] entry,
// requests through MQTT and their replies, and the numbers in its readings.

#include <string>
#include <vector>

#include "tests/e2e/e2e_support.hpp"

namespace fg::firmware::test {

using e2e::Json;
using e2e::kWait;

class NodeE2eTest : public e2e::E2eTest {
 protected:
  static constexpr const char* kNode = "node";

  // A [[serial]] entry for our firmware: COBS frames, kv readings, and request/reply mode (a REPLY frame
  // is the reply; reply_pattern must be given but is not what finds it).
  std::string node_config() const {
    return config_head() + serial_head(kNode) +
           "framing = \"cobs\"\nparser = \"kv\"\n\n[serial.request]\nreply_pattern = '^(OK|ERR|PONG)'\n"
           "timeout = \"5s\"\n";
  }

  // Publishes `text` on the node's request topic and returns the reply the gateway published for it.
  Json request(const std::string& text) {
    std::size_t from = sub_->messages().size();
    EXPECT_TRUE(sub_->publish(topic(std::string(kNode) + "/request"), text));
    return reply_after(from, text);
  }

  // The same for a value set on a channel: <device>/<channel>/set, written as "<channel>=<value>".
  Json set(const std::string& channel, const std::string& value) {
    std::size_t from = sub_->messages().size();
    EXPECT_TRUE(sub_->publish(topic(std::string(kNode) + "/" + channel + "/set"), value));
    return reply_after(from, channel + "=" + value);
  }

  // The first reply to `request` on <device>/reply from message index `from`.
  Json reply_after(std::size_t from, const std::string& request) {
    Json found;
    sub_->wait_for(
        [&](const std::vector<fg::test::MqttMessage>& all) {
          for (std::size_t i = from; i < all.size(); ++i) {
            if (all[i].topic == topic(std::string(kNode) + "/reply")) {
              Json j = Json::parse(all[i].payload, nullptr, false);
              if (j.is_object() && j.value("request", "") == request) {
                found = j;
                return true;
              }
            }
          }
          return false;
        },
        kWait);
    EXPECT_TRUE(found.is_object()) << "no reply to " << request << diagnostics();
    return found;
  }

  // The values of `count` readings of a channel of the node, from message index `from`.
  std::vector<Json> node_readings(const std::string& channel, std::size_t count, std::size_t from = 0) {
    return wait_readings(topic(std::string(kNode) + "/" + channel), count, from);
  }

  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);

  // The index of the first message on `topic` from index `from`, waiting up to kWait; kNone if none came.
  std::size_t wait_index(const std::string& topic, std::size_t from) {
    std::size_t found = kNone;
    sub_->wait_for(
        [&](const std::vector<fg::test::MqttMessage>& all) {
          for (std::size_t i = from; i < all.size(); ++i) {
            if (all[i].topic == topic) {
              found = i;
              return true;
            }
          }
          return false;
        },
        kWait);
    return found;
  }

  // True if the n values (the firmware's own numbers) and the gateway's seq both go up by one each time.
  static ::testing::AssertionResult Consecutive(const std::vector<Json>& readings) {
    for (std::size_t i = 1; i < readings.size(); ++i) {
      if (readings[i].value("value", 0.0) != readings[i - 1].value("value", 0.0) + 1 ||
          readings[i].value("seq", 0) != readings[i - 1].value("seq", 0) + 1) {
        return ::testing::AssertionFailure()
               << "not consecutive: " << readings[i - 1].dump() << " then " << readings[i].dump();
      }
    }
    return ::testing::AssertionSuccess();
  }
};

}  // namespace fg::firmware::test
