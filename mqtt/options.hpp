#pragma once
// Options: everything a Session needs to reach and talk to one broker. The defaults serve a broker on
// the same host without authentication. Session::create validates them and says no with
// std::errc::invalid_argument (or the errno of a file it cannot read) before anything starts.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "mqtt/message.hpp"

namespace fg::mqtt {

enum class Protocol {
  v311,  // MQTT 3.1.1
  v5,    // MQTT 5.0
};

struct TlsOptions {
  // PEM file of the certificate authorities trusted to sign the broker's certificate (required).
  std::filesystem::path ca_file;
  // Optional client certificate and its unencrypted private key, for brokers that require one; give
  // both or neither.
  std::filesystem::path cert_file;
  std::filesystem::path key_file;
  // Skips the check that the broker's certificate names the host connected to (the chain is still
  // verified against ca_file). For tests and for brokers reached by an address their certificate does
  // not name; it lets anyone holding any certificate of that CA impersonate the broker.
  bool insecure = false;

  bool operator==(const TlsOptions&) const = default;
};

struct ReconnectOptions {
  // The first delay after a failure; it doubles after each further failure, up to `max`, each delay
  // jittered down by up to half (see mqtt/backoff.hpp).
  std::chrono::milliseconds initial{500};
  std::chrono::milliseconds max{30'000};
  // A connection that lasted at least this long resets the delay to `initial` when it ends; a broker
  // that accepts and then drops the session at once keeps the delays growing.
  std::chrono::milliseconds stable_after{30'000};
  // Limit for one attempt, from the TCP connect through the TLS handshake to the broker's CONNACK.
  std::chrono::milliseconds connect_timeout{10'000};
  // Seed of the jitter; 0 takes one from std::random_device.
  std::uint64_t jitter_seed = 0;

  bool operator==(const ReconnectOptions&) const = default;
};

// The disk spool (mqtt/spool.hpp) for QoS 1 / 2 messages: the owner of the session opens it with these
// settings and gives it to Session::use_spool(); the session uses `mode` and `window`.
enum class SpoolMode {
  always,  // every QoS 1 / 2 message is appended before it is published
  outage,  // only while the broker is away or the window of unacknowledged messages is full
};
struct SpoolSettings {
  bool enabled = true;
  // At most one fdatasync per this period (group commit); 0: before each publish.
  std::chrono::milliseconds sync{1000};
  SpoolMode mode = SpoolMode::always;
  std::uint64_t max_bytes = 64ull << 20;
  // QoS 1 / 2 messages handed to libmosquitto and not yet acknowledged, at most; the rest wait in the
  // spool (or the outbox), not in libmosquitto's unbounded memory. libmosquitto's own send maximum is set
  // to the same number. At libmosquitto's default of 20, a broker with its default settings (no
  // TCP_NODELAY: each PUBACK waits for our delayed TCP ACK) filled the window at 1,000 readings/s, and
  // QoS 1 readings left in batches: p50 10 ms. At 200: p50 0.14 ms, 40,000 readings/s, and under
  // 60,000 lines/s offered RSS stays under 8 MiB (docs/benchmarks.md, bench_spool).
  std::size_t window = 200;

  bool operator==(const SpoolSettings&) const = default;
};

struct Options {
  // A host name or a numeric IPv4 / IPv6 address.
  std::string host = "localhost";
  std::uint16_t port = 1883;
  // Empty lets libmosquitto make a random one (allowed only with clean_session).
  std::string client_id;
  // 0 turns keepalive off; otherwise 5 s .. 65535 s (libmosquitto refuses less than 5 s).
  std::chrono::seconds keepalive{30};
  // Empty means no user name. The password is read from password_file (see mqtt/secret_file.hpp); a
  // user name without a password file sends no password.
  std::string username;
  std::filesystem::path password_file;
  std::optional<TlsOptions> tls;
  Protocol protocol = Protocol::v311;
  // MQTT 3.1.1 clean session / MQTT 5 clean start. Known limit: with MQTT 5 no session expiry interval
  // is sent, so the broker ends the session with the connection even when this is false.
  bool clean_session = true;
  // Registered with the broker on every connect and published by it if the connection ends without a
  // DISCONNECT (crash, power loss, network loss).
  std::optional<Publication> will;
  // Published after every successful connect, before the outbox.
  std::optional<Publication> birth;
  // Messages kept while disconnected; when full the oldest is dropped and counted.
  std::size_t outbox_limit = 1000;
  ReconnectOptions reconnect;
  SpoolSettings spool;

  bool operator==(const Options&) const = default;
};

}  // namespace fg::mqtt
