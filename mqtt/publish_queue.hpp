#pragma once
// PublishQueue: where the session keeps messages that cannot go to the broker yet, and what it tells
// about the life of each one it hands to libmosquitto. The session publishes from it in order; the
// in-memory Outbox (mqtt/outbox.hpp) is one implementation, a disk spool (issue 12) is meant to be
// another, so that the session's publish path does not change when the spool arrives.
//
// The life of a message: push() -> front() / sent(mid) when handed to libmosquitto (or track() when it
// went out at once, nothing older waiting) -> acknowledged(mid) when the broker's PUBACK / PUBCOMP (or
// an MQTT 5 refusal) ends it. connection_lost() tells that messages sent and not acknowledged were
// caught by a broken connection. libmosquitto keeps QoS 1 / 2 messages it was given and sends them again
// after the next connect, so a queue never resends those itself while the process lives; a durable queue
// resends them after a restart only (it has their records, the new libmosquitto instance does not).
//
// Every call comes from the loop thread. acknowledged() comes from inside a libmosquitto callback, so an
// implementation must not call back into the session from it.

#include <cstddef>
#include <cstdint>

#include "mqtt/message.hpp"

namespace fg::mqtt {

// Messages given up, by QoS, so that what is lost can be told apart from what a broker will redeliver.
struct QosCounts {
  std::uint64_t qos0 = 0;
  std::uint64_t qos1 = 0;
  std::uint64_t qos2 = 0;

  void add(Qos qos, std::uint64_t n = 1) noexcept {
    (qos == Qos::at_most_once ? qos0 : qos == Qos::at_least_once ? qos1 : qos2) += n;
  }
  QosCounts& operator+=(const QosCounts& o) noexcept {
    qos0 += o.qos0;
    qos1 += o.qos1;
    qos2 += o.qos2;
    return *this;
  }
  std::uint64_t total() const noexcept { return qos0 + qos1 + qos2; }
};

class PublishQueue {
 public:
  virtual ~PublishQueue() = default;

  // Appends `message` behind every message waiting. Returns how many messages were dropped to make room
  // (the queue decides which; the session counts them in Counters::dropped).
  virtual std::size_t push(Publication message) = 0;
  // The oldest message not yet handed to libmosquitto, or nullptr. Valid until the next call.
  virtual const Publication* front() const = 0;
  // front() leaves the waiting messages: handed to libmosquitto with message id `mid`, or `mid` 0 when
  // nothing will acknowledge it (QoS 0, or a message libmosquitto refused).
  virtual void sent(int mid) = 0;
  // `message` went to libmosquitto at once with message id `mid`, without being pushed (the session
  // does so only when nothing waits). A durable queue records it here as sent and not acknowledged.
  virtual void track(const Publication& message, int mid) = 0;
  // The broker ended message `mid` (acknowledged it, or refused it in an MQTT 5 acknowledgement): a
  // durable queue may release its record. Unknown ids are ignored.
  virtual void acknowledged(int mid) = 0;
  // The connection broke: message ids handed out so far mean nothing to the next connection's packets
  // except through libmosquitto's own resend (see above).
  virtual void connection_lost() = 0;
  // Gives up every waiting message (the session is closing without a broker); returns them by QoS.
  virtual QosCounts discard() = 0;

  // Whether message `mid` (sent, not acknowledged) outlives the process in this queue: a durable queue
  // sends it again after a restart, so a clean stop that gives up on its acknowledgement loses nothing.
  virtual bool keeps(int /*mid*/) const { return false; }

  // Messages waiting (pushed and not sent).
  virtual std::size_t size() const noexcept = 0;
  bool empty() const noexcept { return size() == 0; }
};

}  // namespace fg::mqtt
