#include <mqtt_protocol.h>

#include <algorithm>
#include <string>
#include <utility>

#include "mqtt/session_core.hpp"

// Session::Core: the state machine that acts on the facts libmosquitto's callbacks record, the
// subscriptions, and the callbacks that deliver to the user.

namespace fg::mqtt {
namespace {

using namespace detail;

LogLevel log_level(int level) {
  switch (level) {
    case MOSQ_LOG_ERR:
      return LogLevel::error;
    case MOSQ_LOG_WARNING:
      return LogLevel::warning;
    case MOSQ_LOG_NOTICE:
      return LogLevel::notice;
    case MOSQ_LOG_INFO:
      return LogLevel::info;
    default:
      return LogLevel::debug;
  }
}

}  // namespace

// ---- the state machine ----------------------------------------------------------------------------

State Session::Core::state() const noexcept {
  switch (phase_) {
    case Phase::idle:
      return State::idle;
    case Phase::resolving:
    case Phase::connecting:
      return State::connecting;
    case Phase::connected:
    case Phase::reconfiguring:  // still connected: acknowledgements come in until the DISCONNECT
    case Phase::reconnecting:
      return State::connected;
    case Phase::waiting:
      return State::disconnected;
    case Phase::draining:
    case Phase::disconnecting:
    case Phase::finishing:
      return State::closing;
    case Phase::closed:
      return State::closed;
  }
  return State::closed;
}

void Session::Core::settle() {
  // Acting on one fact may call into libmosquitto (or the user) and record another, so repeat until
  // nothing is left. Each round consumes a fact or changes the phase, so this ends.
  while (!orphaned_) {
    if (connack_) {
      int reason = *std::exchange(connack_, std::nullopt);
      if (reason != 0) {
        // libmosquitto follows a refused CONNACK with on_disconnect; keep the broker's reason for it.
        refusal_ = reason_error(reason);
        if (phase_ == Phase::connecting && !lost_ && socket_alive()) {
          attempt_failed(refusal_);
        }
      } else if (phase_ == Phase::connecting && !lost_) {
        on_connected();
      }
      continue;
    }
    if (lost_) {
      auto reason = *std::exchange(lost_, std::nullopt);
      handle_lost(refusal_ ? refusal_ : reason);
      continue;
    }
    if (poll_ && !socket_alive()) {
      // libmosquitto closed its socket without reporting a disconnect (older 2.0 releases do so for a
      // failed TLS handshake): the last return value says why.
      handle_lost(last_rc_ == MOSQ_ERR_SUCCESS ? make_error_code(MosquittoErrc::conn_lost)
                                               : mosquitto_error(last_rc_));
      continue;
    }
    if (phase_ == Phase::draining && in_flight_.empty()) {
      disconnect_now();
      continue;
    }
    if (phase_ == Phase::reconfiguring && in_flight_.empty()) {
      disconnect_to_reconfigure();
      continue;
    }
    if (std::exchange(drained_, false) && drain_callback_) {
      auto callback = drain_callback_;  // the callback may replace itself
      invoke_user(counters_.callback_errors, callback);
      continue;
    }
    if (phase_ == Phase::connected && spool_waiting() > 0 && window_open()) {
      flush_spool();  // acknowledgements made room in the window
    }
    update_interest();  // may record a loss if the poll cannot be changed
    if (lost_) {
      continue;
    }
    update_log_callback();  // libmosquitto's log is wanted while an attempt runs (see session_core.hpp)
    break;
  }
}

std::error_code Session::Core::start() {
  if (phase_ != Phase::idle) {
    return std::make_error_code(phase_ >= Phase::draining ? std::errc::operation_canceled
                                                          : std::errc::operation_in_progress);
  }
  // The first attempt starts from the loop, so no state callback runs inside start().
  phase_ = Phase::waiting;
  retry_timer_.start(0ms, entry(&Core::on_retry));
  return {};
}


void Session::Core::notify(State state, std::error_code reason, std::chrono::milliseconds retry_in,
                           std::string detail) {
  if (state_callback_) {
    auto callback = state_callback_;  // the callback may replace itself
    invoke_user(counters_.callback_errors, callback, StateChange{state, reason, retry_in, std::move(detail)});
  }
}


// ---- subscriptions ---------------------------------------------------------------------------------

void Session::Core::resubscribe() {
  for (const auto& [filter, qos] : subscriptions_) {
    // Inside on_connect libmosquitto only queues the packet; errors mean the connection is already
    // gone, and the next connect subscribes again.
    (void)mosquitto_subscribe(mosq_.get(), nullptr, filter.c_str(), static_cast<int>(qos));
  }
}

std::error_code Session::Core::subscribe(std::string_view filter, Qos qos) {
  if (phase_ >= Phase::draining) {
    return std::make_error_code(std::errc::operation_canceled);
  }
  if (auto ec = check_filter(filter); ec || !valid_qos(qos)) {
    return invalid();
  }
  auto it = std::find_if(subscriptions_.begin(), subscriptions_.end(),
                         [&](const auto& s) { return s.first == filter; });
  if (it != subscriptions_.end()) {
    it->second = qos;
  } else {
    subscriptions_.emplace_back(std::string(filter), qos);
  }
  if (phase_ == Phase::connected) {
    int rc = mosquitto_subscribe(mosq_.get(), nullptr, std::string(filter).c_str(), static_cast<int>(qos));
    last_rc_ = rc;
    if (rc != MOSQ_ERR_SUCCESS && !is_transport_error(rc)) {
      return mosquitto_error(rc);
    }
  }
  return {};
}

std::error_code Session::Core::unsubscribe(std::string_view filter) {
  if (phase_ >= Phase::draining) {
    return std::make_error_code(std::errc::operation_canceled);
  }
  auto it = std::find_if(subscriptions_.begin(), subscriptions_.end(),
                         [&](const auto& s) { return s.first == filter; });
  if (it == subscriptions_.end()) {
    return invalid();
  }
  subscriptions_.erase(it);
  if (phase_ == Phase::connected) {
    int rc = mosquitto_unsubscribe(mosq_.get(), nullptr, std::string(filter).c_str());
    last_rc_ = rc;
    if (rc != MOSQ_ERR_SUCCESS && !is_transport_error(rc)) {
      return mosquitto_error(rc);
    }
  }
  return {};
}


// ---- libmosquitto callbacks that deliver ----------------------------------------------------------

void Session::Core::on_message(mosquitto*, void* self, const mosquitto_message* msg,
                               const mosquitto_property*) noexcept {
  auto* core = static_cast<Core*>(self);
  ++core->counters_.received;
  if (!core->message_callback_) {
    return;
  }
  Message message;
  message.topic = msg->topic != nullptr ? std::string_view(msg->topic) : std::string_view();
  message.payload = {static_cast<const std::byte*>(msg->payload),
                     msg->payload != nullptr ? static_cast<std::size_t>(msg->payloadlen) : 0};
  message.qos = static_cast<Qos>(msg->qos);
  message.retain = msg->retain;
  auto callback = core->message_callback_;  // the callback may replace itself
  invoke_user(core->counters_.callback_errors, callback, message);
}

void Session::Core::on_subscribe(mosquitto*, void* self, int, int count, const int* granted,
                                 const mosquitto_property*) noexcept {
  auto* core = static_cast<Core*>(self);
  for (int i = 0; i < count; ++i) {
    if (granted[i] >= 0x80) {
      ++core->counters_.subscriptions_refused;
    }
  }
}

void Session::Core::on_log(mosquitto*, void* self, int level, const char* text) noexcept {
  auto* core = static_cast<Core*>(self);
  // Kept for the failure's detail; a handful of lines at most per attempt (the bound guards against a
  // chatty library all the same).
  if (core->phase_ == Phase::connecting && level == MOSQ_LOG_ERR && text != nullptr &&
      core->attempt_errors_.size() < 8) {
    core->attempt_errors_.emplace_back(text);
  }
  if (core->log_callback_ && text != nullptr) {
    auto callback = core->log_callback_;
    invoke_user(core->counters_.callback_errors, callback, log_level(level), std::string_view(text));
  }
}

}  // namespace fg::mqtt
