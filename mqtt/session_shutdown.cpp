#include <mqtt_protocol.h>

#include <utility>

#include "mqtt/session_core.hpp"

// Session::Core, the clean shutdown: the final message, waiting for the acknowledgements of what is in
// flight (bounded by the timeout), DISCONNECT so the broker discards the will, then every handle closed
// and `done` called from the loop.

namespace fg::mqtt {

using namespace detail;

std::error_code Session::Core::shutdown(std::chrono::milliseconds timeout,
                                        std::optional<Publication> final_message, DoneCallback done) {
  if (phase_ >= Phase::draining) {
    return std::make_error_code(std::errc::operation_in_progress);
  }
  if (final_message) {
    if (auto ec = check_publication(*final_message)) {
      return ec;
    }
  }
  done_callback_ = std::move(done);
  retry_timer_.stop();
  connect_timer_.stop();
  cancel_resolution();
  if (phase_ != Phase::connected && phase_ != Phase::reconfiguring) {
    // Nothing to say goodbye to; the broker has published (or will publish) the will already.
    counters_.dropped += final_message ? 1 : 0;
    abandon_socket();
    schedule_finish();
    return {};
  }
  if (final_message && send_now(*final_message, nullptr, &final_mid_) != Sent::ok) {
    ++counters_.dropped;
  }
  phase_ = Phase::draining;
  shutdown_timer_.start(timeout, [this] {
    enter([&] {
      if (phase_ == Phase::draining) {
        disconnect_now();
      }
      // Out of time: whatever has not happened will not be waited for.
      if (phase_ < Phase::finishing) {
        schedule_finish();
      }
    });
  });
  // settle() sends DISCONNECT as soon as nothing is in flight (perhaps at once).
  return {};
}

void Session::Core::disconnect_now() {
  phase_ = Phase::disconnecting;
  misc_timer_.stop();
  // Outside a libmosquitto callback this writes DISCONNECT at once and libmosquitto reports
  // on_disconnect(0), which settles into schedule_finish(); inside one, the packet waits for the
  // socket to be writable. A broker that received DISCONNECT discards the will.
  int rc = mosquitto_disconnect(mosq_.get());
  last_rc_ = rc;
  if (rc != MOSQ_ERR_SUCCESS) {
    schedule_finish();
  }
}

void Session::Core::schedule_finish() {
  phase_ = Phase::finishing;
  detach_poll();
  misc_timer_.stop();
  shutdown_timer_.stop();
  finish_timer_.start(0ms, entry(&Core::finish));
}

void Session::Core::finish() {
  phase_ = Phase::closed;
  detach_poll();
  cancel_resolution();
  misc_timer_.close();
  retry_timer_.close();
  connect_timer_.close();
  shutdown_timer_.close();
  finish_timer_.close();  // inside its own callback: allowed, see loop/uv_handle.hpp
  // Given up: what still waits in the queue, and the QoS 1 / 2 messages libmosquitto holds without an
  // acknowledgement (destroying the instance below frees them). Both are told apart by QoS in
  // discarded(), so the user can say what a clean stop lost.
  auto waiting = queue_->discard();
  if (spool_ != nullptr) {
    waiting += spool_->discard();  // a durable spool keeps its messages for the next start: none
  }
  counters_.dropped += waiting.total();
  discarded_ += waiting;
  for (const auto& [mid, qos] : in_flight_) {
    if (mid != final_mid_ && (spool_ == nullptr || !spool_->keeps(mid))) {
      discarded_.add(qos);
    }
  }
  // Not inside a libmosquitto callback (this runs from a timer), so destroying the instance is safe.
  // It closes the socket and libmosquitto's internal socket pair; unacknowledged messages are lost.
  mosq_.reset();
  auto done = std::exchange(done_callback_, nullptr);
  invoke_user(counters_.callback_errors, done);
}


}  // namespace fg::mqtt
