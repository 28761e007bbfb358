#include "gateway/control/prometheus.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <vector>

namespace fg::gateway {
namespace {

using Json = nlohmann::json;

// A label value with the exposition format's three escapes.
std::string escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// A metric name part from a counter name: [a-zA-Z0-9_] only.
std::string name_part(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    c = ok ? c : '_';
  }
  return out;
}

struct Sample {
  std::string labels;  // ",device=\"x\"" and so on, after the gateway label
  std::string value;
};

struct Family {
  std::string help;
  std::string type;
  std::vector<Sample> samples;
};

class Families {
 public:
  explicit Families(std::string gateway) : gateway_(std::move(gateway)) {}

  template <class T>
  void add(const std::string& name, const char* type, const std::string& help, T value,
           std::string labels = {}) {
    Family& family = families_[name];
    family.help = help;
    family.type = type;
    family.samples.push_back({std::move(labels), fmt::format("{}", value)});
  }

  std::string text() const {
    std::string out;
    auto to = std::back_inserter(out);
    for (const auto& [name, family] : families_) {
      fmt::format_to(to, "# HELP {} {}\n# TYPE {} {}\n", name, family.help, name, family.type);
      for (const auto& sample : family.samples) {
        fmt::format_to(to, "{}{{gateway=\"{}\"{}}} {}\n", name, escape(gateway_), sample.labels,
                       sample.value);
      }
    }
    return out;
  }

 private:
  std::string gateway_;
  std::map<std::string, Family> families_;  // by name: every family's samples stay together
};

std::string label(const char* name, std::string_view value) {
  return fmt::format(",{}=\"{}\"", name, escape(value));
}

}  // namespace

std::string format_prometheus(const Json& s) {
  Families f(s.value("gateway", ""));
  f.add("fieldgate_info", "gauge", "The gateway's version, as a label; always 1.", 1,
        label("version", s.value("version", "")));
  f.add("fieldgate_uptime_seconds", "gauge", "Seconds since the daemon started.", s.value("uptime_s", 0));
  f.add("fieldgate_readings_per_minute", "gauge", "Readings published in the last minute.",
        s.value("readings_per_min", 0.0));
  f.add("fieldgate_dropped_total", "counter", "Everything the gateway dropped and counted, summed.",
        s.value("dropped", 0));
  const Json& m = s["mqtt"];
  f.add("fieldgate_mqtt_connected", "gauge", "1 while connected to the broker.",
        m.value("connected", false) ? 1 : 0);
  f.add("fieldgate_mqtt_published_total", "counter", "Messages handed to the MQTT client library.",
        m.value("published", 0));
  f.add("fieldgate_mqtt_acknowledged_total", "counter", "QoS 1/2 messages the broker acknowledged.",
        m.value("acknowledged", 0));
  f.add("fieldgate_mqtt_dropped_total", "counter", "Messages dropped from the full outbox.",
        m.value("dropped", 0));
  f.add("fieldgate_mqtt_reconnects_total", "counter", "Connections to the broker after the first.",
        m.value("reconnects", 0));
  f.add("fieldgate_mqtt_outbox_messages", "gauge", "Messages waiting for the broker.", m.value("outbox", 0));
  for (const Json& d : s["devices"]) {
    const std::string device = label("device", d.value("name", ""));
    f.add("fieldgate_device_online", "gauge", "1 while the device is usable (its port open).",
          d.value("online", false) ? 1 : 0, device);
    f.add("fieldgate_device_readings_total", "counter", "Readings of the device published.",
          d.value("readings", 0), device);
    if (d.contains("channels")) {
      for (const auto& [channel, count] : d["channels"].items()) {
        f.add("fieldgate_channel_readings_total", "counter", "Readings of the channel published.",
              count.get<std::uint64_t>(), device + label("channel", channel));
      }
    }
    if (d.contains("counters")) {
      for (const auto& [counter, value] : d["counters"].items()) {
        std::string words = counter;
        std::replace(words.begin(), words.end(), '_', ' ');
        f.add("fieldgate_device_" + name_part(counter) + "_total", "counter", "The device's " + words + ".",
              value.get<std::uint64_t>(), device);
      }
    }
  }
  const Json& r = s["replication"];
  if (r.is_object()) {
    f.add("fieldgate_replication_peers_up", "gauge", "Replication peers answering.", s.value("peers_up", 0));
    for (const Json& p : r["peers"]) {
      f.add("fieldgate_replication_peer_up", "gauge", "1 while the peer answers.",
            p.value("up", false) ? 1 : 0, label("peer", std::to_string(p.value("node", 0))));
    }
    const Json& d = r["datagrams"];
    f.add("fieldgate_replication_datagrams_sent_total", "counter", "Datagrams sent to peers.",
          d.value("sent", 0));
    f.add("fieldgate_replication_datagrams_received_total", "counter", "Datagrams received from peers.",
          d.value("received", 0));
    f.add("fieldgate_replication_datagrams_malformed_total", "counter",
          "Datagrams that were not the protocol.", d.value("malformed", 0));
  }
  return f.text();
}

}  // namespace fg::gateway
