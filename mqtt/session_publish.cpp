#include <mqtt_protocol.h>

#include <utility>

#include "mqtt/session_core.hpp"

// Session::Core, publishing: messages go straight to libmosquitto when connected and nothing older
// waits, otherwise into the PublishQueue, which is sent in order after the next connect. QoS 1 / 2
// messages are tracked by message id until the broker acknowledges them; backlog() counts what
// libmosquitto could not write yet (flow control).

namespace fg::mqtt {

using namespace detail;

Session::Core::Sent Session::Core::send_now(const Publication& message, std::error_code* refusal,
                                            int* sent_mid) {
  int mid = 0;
  int rc =
      mosquitto_publish(mosq_.get(), &mid, message.topic.c_str(), static_cast<int>(message.payload.size()),
                        message.payload.data(), static_cast<int>(message.qos), message.retain);
  last_rc_ = rc;
  if (rc == MOSQ_ERR_SUCCESS || (is_transport_error(rc) && message.qos != Qos::at_most_once && mid != 0)) {
    ++counters_.published;
    // libmosquitto writes a packet at once when it can; if it could not, the packet waits in its
    // unbounded queue, and the caller should hold back (Session::backlog()).
    if (mosquitto_want_write(mosq_.get())) {
      ++backlog_;
    } else if (backlog_ > 0) {
      // This publish flushed libmosquitto's whole queue (it writes what is queued first): that is a
      // drain like one in the poll callback, and must be reported, or a caller holding back for it
      // (the gateway pauses its ports) would wait forever.
      backlog_ = 0;
      drained_ = true;
    }
    if (message.qos != Qos::at_most_once && in_flight_.emplace(mid, message.qos).second &&
        message.qos == Qos::exactly_once) {
      ++qos2_in_flight_;
    }
    if (sent_mid != nullptr) {
      *sent_mid = message.qos != Qos::at_most_once ? mid : 0;
    }
    return Sent::ok;
  }
  if (is_transport_error(rc)) {
    return Sent::transport_error;
  }
  if (refusal != nullptr) {
    *refusal = mosquitto_error(rc);
  }
  return Sent::rejected;
}

void Session::Core::flush_queue() {
  while (phase_ == Phase::connected) {
    const Publication* message = queue_->front();
    if (message == nullptr) {
      return;
    }
    int mid = 0;
    switch (send_now(*message, nullptr, &mid)) {
      case Sent::ok:
        queue_->sent(mid);
        break;
      case Sent::rejected:
        ++counters_.rejected;
        queue_->sent(0);
        break;
      case Sent::transport_error:
        // The connection broke under us (the poll reports it next): the message stays first in line.
        return;
    }
  }
  flush_spool();
}

void Session::Core::flush_spool() {
  while (spool_ != nullptr && phase_ == Phase::connected && window_open() && !spool_->empty()) {
    const Publication* message = spool_->front();
    if (message == nullptr || !window_open_for(message->qos)) {
      return;
    }
    int mid = 0;
    switch (send_now(*message, nullptr, &mid)) {
      case Sent::ok:
        spool_->sent(mid);
        break;
      case Sent::rejected:
        ++counters_.rejected;
        spool_->sent(0);
        break;
      case Sent::transport_error:
        return;
    }
  }
}

std::error_code Session::Core::publish(Publication message) {
  if (phase_ >= Phase::draining) {
    return std::make_error_code(std::errc::operation_canceled);
  }
  if (auto ec = check_publication(message)) {
    return ec;
  }
  if (spool_ != nullptr && message.qos != Qos::at_most_once) {
    // Mode "outage": straight out (held by libmosquitto only) while connected, nothing older is
    // spooled and the window has room; otherwise, and always in mode "always", appended first.
    if (options_.spool.mode == SpoolMode::outage && phase_ == Phase::connected && spool_->empty() &&
        window_open_for(message.qos)) {
      std::error_code refusal;
      switch (send_now(message, &refusal)) {
        case Sent::ok:
          return {};
        case Sent::rejected:
          return refusal;
        case Sent::transport_error:
          break;
      }
    }
    counters_.dropped += spool_->push(std::move(message));
    flush_spool();
    return {};
  }
  // Straight to libmosquitto only when connected and nothing older waits in the queue, so messages
  // always leave in publish order.
  if (phase_ == Phase::connected && queue_->empty()) {
    std::error_code refusal;
    int mid = 0;
    switch (send_now(message, &refusal, &mid)) {
      case Sent::ok:
        queue_->track(message, mid);
        return {};
      case Sent::rejected:
        return refusal;
      case Sent::transport_error:
        break;
    }
  }
  counters_.dropped += queue_->push(std::move(message));
  return {};
}

void Session::Core::on_publish(mosquitto*, void* self, int mid, int reason,
                               const mosquitto_property*) noexcept {
  auto* core = static_cast<Core*>(self);
  // QoS 0 messages are reported too, once written; only tracked QoS 1 / 2 ids count.
  if (auto it = core->in_flight_.find(mid); it != core->in_flight_.end()) {
    if (it->second == Qos::exactly_once) {
      --core->qos2_in_flight_;
    }
    core->in_flight_.erase(it);
    // MQTT 5 brokers may refuse a message in its PUBACK / PUBREC (for example not authorised).
    ++(reason >= 0x80 ? core->counters_.rejected : core->counters_.acknowledged);
    // Either way the broker has ended it: a durable queue may release its record. (Only records; the
    // queue must not call back into the session from here.)
    core->queue_->acknowledged(mid);
    if (core->spool_ != nullptr) {
      core->spool_->acknowledged(mid);  // settle() hands out the next spooled messages
    }
    // The last unacknowledged message is acknowledged: a publisher holding back for backlog() may go on.
    if (core->in_flight_.empty() && core->backlog_ == 0 && core->spool_waiting() == 0) {
      core->drained_ = true;
    }
  }
}

}  // namespace fg::mqtt
