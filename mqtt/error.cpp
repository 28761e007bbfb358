#include "mqtt/error.hpp"

#include <mosquitto.h>
#include <mqtt_protocol.h>

#include <string>

namespace fg::mqtt {
namespace {

class MosquittoCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "mosquitto"; }

  std::string message(int value) const override { return mosquitto_strerror(value); }

  std::error_condition default_error_condition(int value) const noexcept override {
    switch (value) {
      case MOSQ_ERR_NOMEM:
        return std::errc::not_enough_memory;
      case MOSQ_ERR_INVAL:
      case MOSQ_ERR_MALFORMED_UTF8:
        return std::errc::invalid_argument;
      case MOSQ_ERR_NO_CONN:
        return std::errc::not_connected;
      case MOSQ_ERR_CONN_REFUSED:
        return std::errc::connection_refused;
      case MOSQ_ERR_CONN_LOST:
        return std::errc::connection_aborted;
      case MOSQ_ERR_PAYLOAD_SIZE:
      case MOSQ_ERR_OVERSIZE_PACKET:
        return std::errc::message_size;
      case MOSQ_ERR_NOT_SUPPORTED:
      case MOSQ_ERR_QOS_NOT_SUPPORTED:
      case MOSQ_ERR_RETAIN_NOT_SUPPORTED:
        return std::errc::not_supported;
      case MOSQ_ERR_AUTH:
      case MOSQ_ERR_ACL_DENIED:
        return std::errc::permission_denied;
      case MOSQ_ERR_KEEPALIVE:
      case MOSQ_ERR_TIMEOUT:
        return std::errc::timed_out;
      case MOSQ_ERR_PROTOCOL:
      case MOSQ_ERR_MALFORMED_PACKET:
        return std::errc::protocol_error;
      default:
        return {value, *this};
    }
  }
};

class ReasonCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "mqtt-reason"; }

  std::string message(int value) const override { return mosquitto_reason_string(value); }

  std::error_condition default_error_condition(int value) const noexcept override {
    switch (value) {
      case MQTT_RC_BAD_USERNAME_OR_PASSWORD:
      case MQTT_RC_NOT_AUTHORIZED:
      case MQTT_RC_BANNED:
      case MQTT_RC_BAD_AUTHENTICATION_METHOD:
        return std::errc::permission_denied;
      case MQTT_RC_SERVER_UNAVAILABLE:
      case MQTT_RC_SERVER_BUSY:
      case MQTT_RC_SERVER_SHUTTING_DOWN:
        return std::errc::connection_refused;
      case MQTT_RC_KEEP_ALIVE_TIMEOUT:
        return std::errc::timed_out;
      case MQTT_RC_MALFORMED_PACKET:
      case MQTT_RC_PROTOCOL_ERROR:
        return std::errc::protocol_error;
      case MQTT_RC_PACKET_TOO_LARGE:
        return std::errc::message_size;
      default:
        return {value, *this};
    }
  }
};

}  // namespace

const std::error_category& mosquitto_category() noexcept {
  static const MosquittoCategory category;
  return category;
}

const std::error_category& reason_category() noexcept {
  static const ReasonCategory category;
  return category;
}

int reason_from_connack_v311(int return_code) noexcept {
  switch (return_code) {
    case 1:  // unacceptable protocol version
      return MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION;
    case 2:  // identifier rejected
      return MQTT_RC_CLIENTID_NOT_VALID;
    case 3:  // server unavailable
      return MQTT_RC_SERVER_UNAVAILABLE;
    case 4:  // bad user name or password
      return MQTT_RC_BAD_USERNAME_OR_PASSWORD;
    case 5:  // not authorised
      return MQTT_RC_NOT_AUTHORIZED;
    default:
      return return_code;
  }
}

}  // namespace fg::mqtt
