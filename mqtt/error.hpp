#pragma once
// Errors are values: libmosquitto's MOSQ_ERR_* codes and MQTT reason codes become std::error_code.
//
// Two categories, so a code says where it came from:
// - mosquitto_category(): what libmosquitto returned or reported (MosquittoErrc), e.g. a TLS failure or a
//   lost connection. MOSQ_ERR_ERRNO never appears: the session reports the errno itself (system category).
// - reason_category(): an MQTT 5 reason code sent by the broker (ReasonCode), e.g. a refused CONNACK. MQTT
//   3.1.1 CONNACK return codes are reported as their MQTT 5 equivalents (4 -> 0x86, 5 -> 0x87, ...), so a
//   caller handles one set of codes whatever the protocol version.
// Both map to std::errc conditions where one fits, so `ec == std::errc::permission_denied` is true for
// every authentication or authorisation refusal and `ec == std::errc::timed_out` for keepalive timeouts.

#include <system_error>
#include <type_traits>

namespace fg::mqtt {

// The libmosquitto error numbers the session can report (values as in <mosquitto.h>).
enum class MosquittoErrc : int {
  nomem = 1,
  protocol = 2,
  inval = 3,
  no_conn = 4,
  conn_refused = 5,
  not_found = 6,
  conn_lost = 7,
  tls = 8,
  payload_size = 9,
  not_supported = 10,
  auth = 11,
  acl_denied = 12,
  unknown = 13,
  errno_error = 14,
  eai = 15,
  proxy = 16,
  malformed_utf8 = 18,
  keepalive = 19,
  lookup = 20,
  malformed_packet = 21,
  duplicate_property = 22,
  tls_handshake = 23,
  qos_not_supported = 24,
  oversize_packet = 25,
  ocsp = 26,
  timeout = 27,
  retain_not_supported = 28,
  topic_alias_invalid = 29,
  administrative_action = 30,
  already_exists = 31,
};

// MQTT 5 reason codes a broker uses to refuse a connection or to end one (CONNACK, DISCONNECT).
enum class ReasonCode : int {
  unspecified = 0x80,
  malformed_packet = 0x81,
  protocol_error = 0x82,
  implementation_specific = 0x83,
  unsupported_protocol_version = 0x84,
  client_identifier_not_valid = 0x85,
  bad_username_or_password = 0x86,
  not_authorized = 0x87,
  server_unavailable = 0x88,
  server_busy = 0x89,
  banned = 0x8A,
  server_shutting_down = 0x8B,
  bad_authentication_method = 0x8C,
  keep_alive_timeout = 0x8D,
  session_taken_over = 0x8E,
  packet_too_large = 0x95,
  quota_exceeded = 0x97,
  administrative_action = 0x98,
  use_another_server = 0x9C,
  server_moved = 0x9D,
  connection_rate_exceeded = 0x9F,
};

const std::error_category& mosquitto_category() noexcept;
const std::error_category& reason_category() noexcept;

inline std::error_code make_error_code(MosquittoErrc e) noexcept {
  return {static_cast<int>(e), mosquitto_category()};
}
inline std::error_code make_error_code(ReasonCode e) noexcept {
  return {static_cast<int>(e), reason_category()};
}

// A libmosquitto return value as an error_code; MOSQ_ERR_SUCCESS (0) gives the empty code.
inline std::error_code mosquitto_error(int rc) noexcept {
  return rc == 0 ? std::error_code() : std::error_code(rc, mosquitto_category());
}

// An MQTT 5 reason code (>= 0x80 is an error) as an error_code; 0 gives the empty code.
inline std::error_code reason_error(int reason_code) noexcept {
  return reason_code == 0 ? std::error_code() : std::error_code(reason_code, reason_category());
}

// The MQTT 5 equivalent of an MQTT 3.1.1 CONNACK return code (1..5); other values pass through.
int reason_from_connack_v311(int return_code) noexcept;

}  // namespace fg::mqtt

template <>
struct std::is_error_code_enum<fg::mqtt::MosquittoErrc> : std::true_type {};
template <>
struct std::is_error_code_enum<fg::mqtt::ReasonCode> : std::true_type {};
