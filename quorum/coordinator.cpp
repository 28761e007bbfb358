#include "quorum/coordinator.hpp"

#include <algorithm>

namespace fg::quorum {
namespace {

std::expected<void, OpError> check_key(const std::string& key) {
  if (key.empty()) {
    return std::unexpected(op_error(OpErrc::empty_key, "the key is empty"));
  }
  if (key.size() > kMaxKeySize) {
    return std::unexpected(
        op_error(OpErrc::key_too_long, "the key is longer than " + std::to_string(kMaxKeySize) + " bytes"));
  }
  return {};
}

}  // namespace

Coordinator::Coordinator(const Context& context, CoordinatorOptions options,
                         std::function<void(Completion)> complete)
    : context_(context), options_(options), complete_(std::move(complete)) {}

// Whether a new operation on `key` must fail at once (an invalid key, or too many operations open);
// then `fail_with` has been queued with the error.
std::optional<OpError> Coordinator::refusal(const std::string& key) {
  auto valid = check_key(key);
  if (valid && ops_.size() >= options_.max_in_flight) {
    ++counters_.busy;
    valid = std::unexpected(op_error(OpErrc::busy, "busy: " + std::to_string(options_.max_in_flight) +
                                                       " register operations are in flight already; "
                                                       "nothing was done, try again later"));
  }
  if (valid) {
    return std::nullopt;
  }
  ++counters_.failed;
  return std::move(valid.error());
}

void Coordinator::read(std::string key, ReadDone done) {
  ++counters_.reads;
  if (auto error = refusal(key)) {
    complete_([done = std::move(done), error = std::move(*error)] { done(std::unexpected(error)); });
    return;
  }
  Op op;
  op.kind = Kind::read;
  op.key = std::move(key);
  op.read_done = std::move(done);
  start(std::move(op));
}

void Coordinator::write(std::string key, std::string value, WriteDone done) {
  ++counters_.writes;
  if (value.size() > kMaxValueSize) {
    ++counters_.failed;
    complete_([done = std::move(done)] {
      done(std::unexpected(op_error(OpErrc::value_too_large,
                                    "the value is longer than " + std::to_string(kMaxValueSize) + " bytes")));
    });
    return;
  }
  if (auto error = refusal(key)) {
    complete_([done = std::move(done), error = std::move(*error)] { done(std::unexpected(error)); });
    return;
  }
  Op op;
  op.kind = Kind::write;
  op.key = std::move(key);
  op.value = std::move(value);
  op.write_done = std::move(done);
  start(std::move(op));
}

void Coordinator::start(Op op) {
  op.deadline = context_.now() + options_.op_timeout;
  op.request = next_request_++;
  auto [it, inserted] = ops_.emplace(op.request, std::move(op));
  send_phase(it->second, false);
}

void Coordinator::send_phase(Op& op, bool retransmission) {
  if (!retransmission) {
    op.answered.assign(context_.members.size(), false);
    op.answers = 0;
    op.backoff = options_.initial_retransmit;
  } else {
    op.backoff = std::min(op.backoff * 2, options_.max_retransmit);
  }
  op.next_send = context_.now() + op.backoff;
  reschedule(op);

  Message request;
  request.request = op.request;
  request.key = op.key;
  if (op.phase == 1) {
    request.type = op.kind == Kind::write ? MessageType::query_tag : MessageType::query_value;
  } else {
    request.type = MessageType::store;
    request.versioned = op.best;
  }
  for (std::size_t i = 0; i < context_.members.size(); ++i) {
    if (!op.answered[i]) {
      if (retransmission) {
        ++counters_.retransmissions;
      }
      context_.send(context_.members[i], request);
    }
  }
}

void Coordinator::reschedule(Op& op) {
  timeline_.erase({op.wake, op.request});  // nothing to erase for a new operation or phase
  op.wake = std::min(op.deadline, op.next_send);
  timeline_.emplace(op.wake, op.request);
}

void Coordinator::on_reply(NodeId from, const Message& reply) {
  auto it = ops_.find(reply.request);
  std::size_t member = context_.index_of(from);
  if (it == ops_.end() || reply.request_epoch != context_.epoch || member >= context_.members.size()) {
    ++counters_.stray_replies;
    return;
  }
  Op& op = it->second;
  if (context_.now() >= op.deadline) {
    // The deadline passed before this reply was taken in (a coordinator paused with SIGSTOP reads the
    // replies that queued up before its timer runs): the operation has failed, whatever came later.
    // A restoring replica relies on this (restorer.hpp): no reply counts after the deadline.
    fail(op.request, describe_missing(op));
    return;
  }
  MessageType expected = op.phase == 2            ? MessageType::store_ack
                         : op.kind == Kind::write ? MessageType::tag_reply
                                                  : MessageType::value_reply;
  if (reply.type != expected || reply.key != op.key || op.answered[member]) {
    ++counters_.stray_replies;
    return;
  }
  op.answered[member] = true;
  ++op.answers;

  if (op.phase == 1) {
    if (op.answers == 1 || op.best.tag < reply.versioned.tag) {
      op.best = reply.versioned;
      op.best_count = 1;
    } else if (reply.versioned.tag == op.best.tag) {
      ++op.best_count;
    }
  }
  if (op.answers < context_.majority()) {
    return;
  }

  if (op.phase == 2) {
    finish(op.request);
  } else if (op.kind == Kind::write) {
    // Two writes of ours to one key may read the same highest counter; ours must still differ.
    auto& last = last_counter_[op.key];
    last = std::max(op.best.tag.counter, last) + 1;
    begin_phase2(op, Versioned{Tag{last, context_.self, context_.epoch}, op.value});
  } else if (op.best_count >= context_.majority() || options_.unsafe_skip_read_write_back) {
    finish(op.request);  // a majority already holds the newest value: one round trip
  } else {
    ++counters_.reads_with_write_back;
    begin_phase2(op, op.best);
  }
}

void Coordinator::begin_phase2(Op& op, Versioned versioned) {
  // A new request id for phase 2, so a late phase-1 reply can never be counted as an acknowledgement.
  timeline_.erase({op.wake, op.request});
  Op moved = std::move(op);
  ops_.erase(moved.request);
  moved.phase = 2;
  moved.best = std::move(versioned);
  moved.request = next_request_++;
  auto [it, inserted] = ops_.emplace(moved.request, std::move(moved));
  send_phase(it->second, false);
}

void Coordinator::finish(std::uint64_t request) {
  auto node = ops_.extract(request);
  Op& op = node.mapped();
  timeline_.erase({op.wake, op.request});
  if (op.kind == Kind::read) {
    complete_(
        [done = std::move(op.read_done), result = std::move(op.best)]() mutable { done(std::move(result)); });
  } else {
    complete_([done = std::move(op.write_done), tag = op.best.tag] { done(tag); });
  }
}

void Coordinator::fail(std::uint64_t request, OpError error) {
  ++counters_.failed;
  auto node = ops_.extract(request);
  Op& op = node.mapped();
  timeline_.erase({op.wake, op.request});
  if (op.kind == Kind::read) {
    complete_([done = std::move(op.read_done), error = std::move(error)] { done(std::unexpected(error)); });
  } else {
    complete_([done = std::move(op.write_done), error = std::move(error)] { done(std::unexpected(error)); });
  }
}

OpError Coordinator::describe_missing(const Op& op) const {
  std::string text = "no quorum for ";
  text += op.kind == Kind::read ? "read of '" : "write of '";
  text += op.key + "': " + std::to_string(op.answers) + " of " + std::to_string(context_.members.size()) +
          " replicas answered within " + std::to_string(options_.op_timeout.count()) + " ms (" +
          std::to_string(context_.majority()) + " needed); no answer from node";
  const char* separator = " ";
  for (std::size_t i = 0; i < context_.members.size(); ++i) {
    if (!op.answered[i]) {
      text += separator + std::to_string(context_.members[i]);
      separator = ", ";
    }
  }
  bool unknown = op.kind == Kind::write && op.phase == 2;
  if (op.kind == Kind::write) {
    text += unknown ? "; the write may or may not have taken effect" : "; nothing was written";
  }
  return op_error(unknown ? OpErrc::outcome_unknown : OpErrc::no_quorum, std::move(text));
}

void Coordinator::on_timer() {
  // Only the operations whose wake time has come: the timeline is ordered by it. Each is either past
  // its deadline (it fails) or due for a retransmission (send_phase moves it further down the timeline).
  Millis now = context_.now();
  while (!timeline_.empty() && timeline_.begin()->first <= now) {
    std::uint64_t request = timeline_.begin()->second;
    ++counters_.timer_visits;
    Op& op = ops_.at(request);
    if (now >= op.deadline) {
      fail(request, describe_missing(op));
    } else {
      send_phase(op, true);
    }
  }
}

Millis Coordinator::next_deadline() const {
  return timeline_.empty() ? Millis::max() : timeline_.begin()->first;
}

}  // namespace fg::quorum
