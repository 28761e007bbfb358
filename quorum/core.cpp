#include "quorum/core.hpp"

#include <algorithm>

#include "quorum/wire.hpp"

namespace fg::quorum {

Core::Core(CoreConfig config, Env& env, Storage& storage, Entries recovered, bool initialized,
           StateChanged state_changed)
    : config_(std::move(config)),
      env_(env),
      context_{.self = config_.self,
               .epoch = config_.epoch,
               .members = config_.members,
               .now = [this] { return env_.now(); },
               .send = [this](NodeId to, Message message) { route(to, std::move(message)); }},
      replica_(storage, std::move(recovered), initialized, config_.max_payload),
      coordinator_(
          context_, config_.coordinator,
          [this](Coordinator::Completion completion) { completions_.push_back(std::move(completion)); }),
      restorer_(
          context_, config_.restore_retry,
          config_.restore_hold > Millis(0) ? config_.restore_hold : config_.coordinator.op_timeout * 3 / 2,
          [this](Entries entries, std::string how) {
            if (auto error = replica_.restored(std::move(entries))) {
              set_state_changed(ReplicaState::failed, "cannot write the restored state: " + error.message());
            } else {
              set_state_changed(ReplicaState::serving, how);
            }
          }),
      monitor_(context_, config_.peers),
      state_changed_(std::move(state_changed)) {
  std::sort(context_.members.begin(), context_.members.end());
  if (replica_.state() == ReplicaState::restoring) {
    restorer_.start();
  }
}

void Core::set_state_changed(ReplicaState state, const std::string& why) {
  if (state_changed_) {
    state_changed_(state, why);
  }
}

void Core::route(NodeId to, Message message) {
  if (to == config_.self) {
    self_inbox_.push_back(std::move(message));
    return;
  }
  auto& outbox = outboxes_[to];
  if (!outbox.empty() && outbox.size() + encoded_size(message) > config_.max_payload) {
    env_.send(to, outbox);
    ++counters_.datagrams_out;
    outbox.clear();
  }
  encode(message, outbox);
}

void Core::on_datagram(NodeId from, std::uint64_t from_epoch, std::span<const std::uint8_t> payload) {
  if (from == config_.self || !context_.is_member(from)) {
    return;  // the transport only delivers members; this is a second fence for the simulation
  }
  ++counters_.datagrams_in;
  monitor_.heard_from(from);
  auto messages = decode(payload);
  if (!messages) {
    ++counters_.malformed;
    return;
  }
  for (const auto& message : *messages) {
    dispatch(from, from_epoch, message);
  }
}

void Core::dispatch(NodeId from, std::uint64_t from_epoch, const Message& message) {
  switch (message.type) {
    case MessageType::ping:
      monitor_.on_ping(from, message, replica_.state());
      return;
    case MessageType::pong:
      monitor_.on_pong(from, message);
      return;
    case MessageType::sync_reply:
      restorer_.on_reply(from, message);
      return;
    case MessageType::tag_reply:
    case MessageType::value_reply:
    case MessageType::store_ack:
      coordinator_.on_reply(from, message);
      return;
    case MessageType::query_tag:
    case MessageType::query_value:
    case MessageType::store:
    case MessageType::sync_request:
      if (auto reply = replica_.handle(message)) {
        reply->request_epoch = from_epoch;
        awaiting_commit_.push_back({from, std::move(*reply)});
      }
      return;
  }
}

void Core::on_timer() {
  coordinator_.on_timer();
  restorer_.on_timer();
  monitor_.on_timer(replica_.state());
}

Millis Core::next_deadline() const {
  return std::min({coordinator_.next_deadline(), restorer_.next_deadline(), monitor_.next_deadline()});
}

void Core::read(std::string key, Coordinator::ReadDone done) {
  coordinator_.read(std::move(key), std::move(done));
}

void Core::write(std::string key, std::string value, Coordinator::WriteDone done) {
  coordinator_.write(std::move(key), std::move(value), std::move(done));
}

void Core::commit_and_release() {
  if (awaiting_commit_.empty()) {
    return;
  }
  bool was_failed = replica_.state() == ReplicaState::failed;
  ++counters_.commits;
  if (auto error = replica_.commit()) {
    ++counters_.commit_failures;
    awaiting_commit_.clear();  // nothing that was not made durable may be acknowledged
    if (!was_failed) {
      set_state_changed(ReplicaState::failed, "the replica's disk failed (" + error.message() +
                                                  "); it stops answering until fieldgate is restarted");
    }
    return;
  }
  auto released = std::move(awaiting_commit_);
  awaiting_commit_.clear();
  for (auto& pending : released) {
    route(pending.to, std::move(pending.reply));
  }
}

void Core::end_of_step() {
  // Each round may produce work for the next: a request to ourselves gets a reply after the commit, that
  // reply may complete a phase and start the next one, a callback may start a new operation. An
  // operation goes through at most four local deliveries, so this settles in a few rounds.
  for (int round = 0; round < 64; ++round) {
    auto inbox = std::move(self_inbox_);
    self_inbox_.clear();
    for (const auto& message : inbox) {
      dispatch(config_.self, config_.epoch, message);
    }
    // Requests leave before our own fdatasync, so the peers store and sync in parallel with us: a write
    // then costs one disk sync plus one round trip, not the two in a row.
    flush();
    commit_and_release();
    auto completions = std::move(completions_);
    completions_.clear();
    for (auto& completion : completions) {
      completion();
    }
    if (self_inbox_.empty() && awaiting_commit_.empty() && completions_.empty()) {
      break;
    }
  }
  flush();
}

void Core::flush() {
  for (auto& [to, outbox] : outboxes_) {
    if (!outbox.empty()) {
      env_.send(to, outbox);
      ++counters_.datagrams_out;
      outbox.clear();
    }
  }
}

}  // namespace fg::quorum
