#include "gateway/control/status.hpp"

#include <fmt/format.h>

#include <iterator>

namespace fg::gateway {

nlohmann::json status_document(const Status& status) {
  nlohmann::json devices = nlohmann::json::array();
  std::uint64_t readings = 0;
  for (const auto& device : status.devices) {
    nlohmann::json counters = nlohmann::json::object();
    for (const auto& [name, value] : device.counters) {
      counters[name] = value;
    }
    devices.push_back({{"name", device.name},
                       {"online", device.online},
                       {"readings", device.readings},
                       {"counters", std::move(counters)},
                       {"drop_counters", device.drop_counters},
                       {"channels", device.channels}});
    readings += device.readings;
  }
  nlohmann::json document{
      {"gateway", status.gateway},
      {"version", status.version},
      {"uptime_s", status.uptime_s},
      {"readings", readings},
      // Two decimals: a rate, not a count, and JSON readers need no more. Rounded by hand (the rate is
      // never negative): std::round would make fieldgate load libm.
      {"readings_per_min", static_cast<double>(static_cast<std::uint64_t>(status.readings_per_min * 100 + 0.5)) / 100},
      {"dropped", status.dropped},
      {"mqtt",
       {{"broker", status.broker},
        {"connected", status.connected},
        {"published", status.mqtt.published},
        {"acknowledged", status.mqtt.acknowledged},
        {"dropped", status.mqtt.dropped},
        {"reconnects", status.mqtt.reconnects},
        {"outbox", status.mqtt.outbox}}},
      {"devices", std::move(devices)},
      {"outputs_restored", status.outputs_restored},
      {"replication", status.replication},
      {"spool", status.spool},
  };
  if (status.replication.is_object() && status.replication.contains("peers")) {
    std::size_t up = 0;
    for (const auto& peer : status.replication["peers"]) {
      up += peer.value("up", false) ? 1 : 0;
    }
    document["peers_up"] = up;
  }
  return document;
}

std::string format_status(const nlohmann::json& s) {
  std::string out;
  auto to = std::back_inserter(out);
  fmt::format_to(to, "gateway {}: broker {} {}, up {} s, {} readings/min, {} dropped\n",
                 s["gateway"].get<std::string>(), s["mqtt"]["broker"].get<std::string>(),
                 s["mqtt"]["connected"].get<bool>() ? "connected" : "disconnected", s.value("uptime_s", 0),
                 s.value("readings_per_min", 0.0), s.value("dropped", 0));
  for (const auto& d : s["devices"]) {
    fmt::format_to(to, "  device {}: {}, {} readings\n", d["name"].get<std::string>(),
                   d["online"].get<bool>() ? "online" : "offline", d["readings"].get<std::uint64_t>());
  }
  if (const auto spool = s.value("spool", nlohmann::json()); spool.is_object()) {
    const auto& age = spool["oldest_age_ms"];
    fmt::format_to(to, "  spool: {} messages, {} bytes, oldest {}, {} dropped\n",
                   spool["depth"].get<std::uint64_t>(), spool["bytes"].get<std::uint64_t>(),
                   age.is_null() ? std::string("-") : fmt::format("{} ms ago", age.get<std::int64_t>()),
                   spool["dropped"].get<std::uint64_t>());
  }
  const auto& r = s["replication"];
  if (r.is_null()) {
    fmt::format_to(to, "  replication: not configured\n");
    return out;
  }
  fmt::format_to(to, "  replica {} ({}): {}, boot epoch {}, {} keys\n", r["node"].get<std::uint32_t>(),
                 r["listen"].get<std::string>(), r["state"].get<std::string>(),
                 r["epoch"].get<std::uint64_t>(), r["keys"].get<std::size_t>());
  for (const auto& p : r["peers"]) {
    std::string rtt = p["rtt_ms"].is_null() ? "-" : fmt::format("{} ms", p["rtt_ms"].get<std::int64_t>());
    std::string heard = p["last_heard_ms_ago"].is_null()
                            ? "never"
                            : fmt::format("{} ms ago", p["last_heard_ms_ago"].get<std::int64_t>());
    fmt::format_to(to, "  peer {} ({}): {}, {}, round trip {}, last heard {}\n",
                   p["node"].get<std::uint32_t>(), p.value("address", "?"),
                   p["up"].get<bool>() ? "up" : "down", p["state"].get<std::string>(), rtt, heard);
  }
  const auto& d = r["datagrams"];
  std::uint64_t dropped = 0;
  for (const auto& [reason, count] : d["dropped"].items()) {
    dropped += count.get<std::uint64_t>();
  }
  fmt::format_to(to, "  datagrams: {} sent, {} received, {} dropped ({}), {} malformed\n",
                 d["sent"].get<std::uint64_t>(), d["received"].get<std::uint64_t>(), dropped,
                 d["dropped"].dump(), d["malformed"].get<std::uint64_t>());
  return out;
}

}  // namespace fg::gateway
