#include <mqtt_protocol.h>

#include <utility>

#include "mqtt/session_core.hpp"

// Session::Core, new options while running (Session::reconfigure): new messages wait in the queue while
// the broker acknowledges what is in flight, then DISCONNECT, and a new attempt with the new options
// starts at once. docs/mqtt.md ("Reconfiguring") tells the decisions.

namespace fg::mqtt {

using namespace detail;

namespace {

// Settings that libmosquitto fixes in an instance: the client id and clean session at mosquitto_new, the
// TLS context at the first TLS connect. Changing one takes a new instance.
bool needs_new_instance(const Options& a, const Options& b) {
  return a.client_id != b.client_id || a.clean_session != b.clean_session || a.tls != b.tls;
}

// Whether the broker would see a difference: anything in CONNECT, the connection itself, or TLS.
bool broker_sees_change(const Options& a, const std::string& password_a, const Options& b,
                        const std::string& password_b) {
  return a.host != b.host || a.port != b.port || a.keepalive != b.keepalive || a.username != b.username ||
         password_a != password_b || a.protocol != b.protocol || a.will != b.will || needs_new_instance(a, b);
}

}  // namespace

std::expected<bool, std::error_code> Session::Core::reconfigure(Options options, std::string password) {
  if (phase_ >= Phase::draining) {
    return std::unexpected(std::make_error_code(std::errc::operation_canceled));
  }
  if (options.outbox_limit != options_.outbox_limit) {
    return std::unexpected(std::make_error_code(std::errc::operation_not_supported));
  }
  // The reconnect timings and the birth message take over at once: they matter only between attempts and
  // after a connect.
  if (options.reconnect != options_.reconnect) {
    backoff_ = Backoff(options.reconnect.initial, options.reconnect.max, options.reconnect.jitter_seed);
  }
  options_.reconnect = options.reconnect;
  options_.birth = options.birth;
  // Compared with what the next connect would use: a reconfigure already under way counts.
  const Options& next = pending_options_ ? pending_options_->first : options_;
  const std::string& next_password = pending_options_ ? pending_options_->second : password_;
  if (!broker_sees_change(next, next_password, options, password)) {
    if (pending_options_) {
      pending_options_->first.reconnect = options.reconnect;
      pending_options_->first.birth = options.birth;
    }
    return false;
  }
  pending_options_.emplace(std::move(options), std::move(password));
  switch (phase_) {
    case Phase::connected:
      // settle() says DISCONNECT as soon as nothing is in flight (perhaps at once); a broker that does not
      // acknowledge within the connect timeout is not waited for longer.
      phase_ = Phase::reconfiguring;
      connect_timer_.start(options_.reconnect.connect_timeout, [this] {
        enter([&] {
          if (phase_ == Phase::reconfiguring) {
            disconnect_to_reconfigure();
          }
        });
      });
      return true;
    case Phase::reconfiguring:
    case Phase::reconnecting:
      return true;  // the newest options take over when the connection has closed
    case Phase::idle:
      if (auto ec = take_pending_options()) {
        return std::unexpected(ec);
      }
      return true;
    default:
      // Resolving, connecting or waiting: no connection worth keeping; the next attempt uses the new options.
      cancel_resolution();
      abandon_socket();
      reconnect_reconfigured();
      return true;
  }
}

void Session::Core::disconnect_to_reconfigure() {
  connect_timer_.stop();
  misc_timer_.stop();
  phase_ = Phase::reconnecting;
  // As in shutdown: outside a libmosquitto callback this writes DISCONNECT at once and on_disconnect
  // records the end; handle_lost() then goes on with reconnect_reconfigured().
  int rc = mosquitto_disconnect(mosq_.get());
  last_rc_ = rc;
  if (rc != MOSQ_ERR_SUCCESS) {
    abandon_socket();
    lost_ = mosquitto_error(rc);
  }
}

void Session::Core::reconnect_reconfigured() {
  connect_timer_.stop();
  retry_timer_.stop();
  addresses_.clear();
  next_address_ = 0;
  backoff_.reset();
  phase_ = Phase::waiting;
  if (auto ec = take_pending_options()) {
    schedule_retry(ec);  // begin_attempt() makes the instance again
    return;
  }
  retry_timer_.start(0ms, entry(&Core::on_retry));
}

std::error_code Session::Core::take_pending_options() {
  if (!pending_options_) {
    return {};
  }
  auto [options, password] = std::move(*pending_options_);
  pending_options_.reset();
  const bool fresh = needs_new_instance(options_, options);
  if (options.client_id != options_.client_id) {
    ended_early_in_a_row_ = 0;  // a new id: whoever took the old one over is no longer in the way
  }
  options_ = std::move(options);
  if (!fresh) {
    password_ = std::move(password);
    return apply_settings();
  }
  // QoS 1 / 2 messages the old instance still holds unacknowledged (the broker did not acknowledge them
  // in time) go with it: counted as dropped, as shutdown counts what it gives up.
  counters_.dropped += in_flight_.size();
  in_flight_.clear();
  qos2_in_flight_ = 0;
  queue_->connection_lost();
  detach_poll();
  mosq_.reset();  // never inside a libmosquitto callback: this runs from settle() or a timer
  return init(password);
}

std::error_code Session::Core::apply_settings() {
  mosquitto* m = mosq_.get();
  int version = options_.protocol == Protocol::v5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311;
  if (int rc = mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, version)) {
    return mosquitto_error(rc);
  }
  const char* user = options_.username.empty() ? nullptr : options_.username.c_str();
  const char* pass = password_.empty() ? nullptr : password_.c_str();
  if (int rc = mosquitto_username_pw_set(m, user, pass)) {
    return mosquitto_error(rc);
  }
  return {};
}

}  // namespace fg::mqtt
