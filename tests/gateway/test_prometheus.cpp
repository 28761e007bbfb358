// `fieldgate status --prometheus`: the status document in Prometheus' text exposition format. Each line
// is checked against the format's grammar (a comment, or name{labels} value), each family's samples
// come together after its # HELP and # TYPE, and label values are escaped.

#include "gateway/control/prometheus.hpp"

#include <gtest/gtest.h>

#include "gateway/control/status.hpp"
#include "tests/support/exposition_text.hpp"

namespace fg::gateway {
namespace {

Status sample_status() {
  Status s;
  s.gateway = "gw1";
  s.version = "0.3.0";
  s.broker = "localhost:1883";
  s.connected = true;
  s.uptime_s = 3600;
  s.readings_per_min = 12.5;
  s.dropped = 3;
  s.mqtt = {100, 99, 1, 2, 0};
  DeviceStatus a;
  a.name = "bench";
  a.online = true;
  a.readings = 7;
  a.counters = {{"bytes_read", 120}, {"rejected_lines", 3}};
  a.channels = {{"t", 4}, {"odd \"name\"\\", 3}};
  s.devices.push_back(a);
  s.replication = nlohmann::json::parse(R"({"peers":[{"node":2,"up":true},{"node":3,"up":false}],
      "datagrams":{"sent":10,"received":9,"malformed":0,"dropped":{}}})");
  return s;
}

TEST(Prometheus, EveryLineIsValidAndFamiliesStayTogether) {
  const std::string text = format_prometheus(status_document(sample_status()));
  EXPECT_TRUE(test::IsExpositionText(text)) << text;
}

TEST(Prometheus, ValuesAndLabels) {
  const std::string text = format_prometheus(status_document(sample_status()));
  for (const char* line : {
           "fieldgate_uptime_seconds{gateway=\"gw1\"} 3600\n",
           "fieldgate_readings_per_minute{gateway=\"gw1\"} 12.5\n",
           "fieldgate_dropped_total{gateway=\"gw1\"} 3\n",
           "fieldgate_mqtt_connected{gateway=\"gw1\"} 1\n",
           "fieldgate_mqtt_reconnects_total{gateway=\"gw1\"} 2\n",
           "fieldgate_device_online{gateway=\"gw1\",device=\"bench\"} 1\n",
           "fieldgate_device_readings_total{gateway=\"gw1\",device=\"bench\"} 7\n",
           "fieldgate_device_rejected_lines_total{gateway=\"gw1\",device=\"bench\"} 3\n",
           "fieldgate_channel_readings_total{gateway=\"gw1\",device=\"bench\",channel=\"t\"} 4\n",
           "fieldgate_channel_readings_total{gateway=\"gw1\",device=\"bench\",channel=\"odd "
           "\\\"name\\\"\\\\\"} 3\n",
           "fieldgate_replication_peers_up{gateway=\"gw1\"} 1\n",
           "fieldgate_replication_peer_up{gateway=\"gw1\",peer=\"3\"} 0\n",
           "# TYPE fieldgate_dropped_total counter\n",
           "# TYPE fieldgate_uptime_seconds gauge\n",
       }) {
    EXPECT_NE(text.find(line), std::string::npos) << "missing: " << line << "in:\n" << text;
  }
}

TEST(Prometheus, WithoutReplicationNoReplicationFamilies) {
  Status s = sample_status();
  s.replication = nullptr;
  const std::string text = format_prometheus(status_document(s));
  EXPECT_TRUE(test::IsExpositionText(text)) << text;
  EXPECT_EQ(text.find("fieldgate_replication"), std::string::npos) << text;
}

}  // namespace
}  // namespace fg::gateway
