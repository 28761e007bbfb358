#include "quorum/endpoint.hpp"

#include <arpa/inet.h>
#include <net/if.h>

#include <algorithm>
#include <cstring>

namespace fg::quorum {
namespace {

std::string quoted(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

// Digits only (no sign, no spaces), 0..65535.
std::expected<std::uint16_t, std::string> parse_port(std::string_view text, std::string_view whole) {
  if (text.empty()) {
    return std::unexpected("endpoint " + quoted(whole) + ": the port after ':' is missing");
  }
  unsigned value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return std::unexpected("endpoint " + quoted(whole) + ": port " + quoted(text) + " is not a number");
    }
    value = value * 10 + static_cast<unsigned>(c - '0');
    if (value > 65535) {
      return std::unexpected("endpoint " + quoted(whole) + ": port " + quoted(text) +
                             " is out of range (0..65535)");
    }
  }
  return static_cast<std::uint16_t>(value);
}

// A host that is neither an IPv4 nor a bracketed IPv6 address: say whether it looks like a name.
std::string bad_host(std::string_view host, std::string_view whole) {
  const bool has_letter = std::any_of(
      host.begin(), host.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); });
  const bool has_colon = host.find(':') != std::string_view::npos;
  if (has_colon) {
    return "endpoint " + quoted(whole) + ": an IPv6 address must be in brackets, as in [fd00::1]:7400";
  }
  if (has_letter) {
    return "endpoint " + quoted(whole) + ": host names are not supported; use an IP address, as in " +
           "192.168.1.10:7400 or [fd00::1]:7400";
  }
  return "endpoint " + quoted(whole) + ": " + quoted(host) + " is not an IPv4 address";
}

std::expected<sockaddr_storage, std::string> parse_v6(std::string_view inside, std::uint16_t port,
                                                      std::string_view whole) {
  std::string_view address = inside;
  std::string_view zone;
  if (auto percent = inside.find('%'); percent != std::string_view::npos) {
    address = inside.substr(0, percent);
    zone = inside.substr(percent + 1);
    if (zone.empty()) {
      return std::unexpected("endpoint " + quoted(whole) + ": the zone after '%' is empty");
    }
  }
  sockaddr_storage storage{};
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
  v6->sin6_family = AF_INET6;
  v6->sin6_port = htons(port);
  if (::inet_pton(AF_INET6, std::string(address).c_str(), &v6->sin6_addr) != 1) {
    return std::unexpected("endpoint " + quoted(whole) + ": " + quoted(address) + " is not an IPv6 address");
  }
  if (!zone.empty()) {
    unsigned index = ::if_nametoindex(std::string(zone).c_str());
    if (index == 0) {
      return std::unexpected("endpoint " + quoted(whole) + ": no network interface named " + quoted(zone));
    }
    v6->sin6_scope_id = index;
  }
  return storage;
}

}  // namespace

std::expected<sockaddr_storage, std::string> parse_endpoint(std::string_view text) {
  if (text.empty()) {
    return std::unexpected(std::string("endpoint \"\": expected ADDRESS:PORT, as in 192.168.1.10:7400"));
  }
  if (text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) {
      return std::unexpected("endpoint " + quoted(text) + ": '[' without a closing ']'");
    }
    std::string_view after = text.substr(close + 1);
    if (after.empty() || after.front() != ':') {
      return std::unexpected("endpoint " + quoted(text) + ": expected ':PORT' after ']'");
    }
    auto port = parse_port(after.substr(1), text);
    if (!port) {
      return std::unexpected(port.error());
    }
    return parse_v6(text.substr(1, close - 1), *port, text);
  }
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return std::unexpected("endpoint " + quoted(text) + ": expected ADDRESS:PORT, the port is missing");
  }
  std::string_view host = text.substr(0, colon);
  if (host.find(':') != std::string_view::npos) {
    return std::unexpected(bad_host(host, text));
  }
  auto port = parse_port(text.substr(colon + 1), text);
  if (!port) {
    return std::unexpected(port.error());
  }
  sockaddr_storage storage{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
  v4->sin_family = AF_INET;
  v4->sin_port = htons(*port);
  // inet_pton takes only the four-part dotted decimal form (no "10.1", no octal or hex parts).
  if (host.empty() || ::inet_pton(AF_INET, std::string(host).c_str(), &v4->sin_addr) != 1) {
    return std::unexpected(bad_host(host, text));
  }
  return storage;
}

std::string format_endpoint(const sockaddr& address) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address.sa_family == AF_INET) {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(address);
    ::inet_ntop(AF_INET, &v4.sin_addr, text, sizeof text);
    return std::string(text) + ":" + std::to_string(ntohs(v4.sin_port));
  }
  if (address.sa_family == AF_INET6) {
    const auto& v6 = reinterpret_cast<const sockaddr_in6&>(address);
    ::inet_ntop(AF_INET6, &v6.sin6_addr, text, sizeof text);
    std::string zone;
    if (v6.sin6_scope_id != 0) {
      char name[IF_NAMESIZE] = {};
      zone = "%" + (::if_indextoname(v6.sin6_scope_id, name) != nullptr ? std::string(name)
                                                                        : std::to_string(v6.sin6_scope_id));
    }
    return "[" + std::string(text) + zone + "]:" + std::to_string(ntohs(v6.sin6_port));
  }
  return "?";
}

}  // namespace fg::quorum
