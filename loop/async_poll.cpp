#include "loop/async_poll.hpp"

namespace fg::loop {

std::expected<AsyncPoll, std::error_code> AsyncPoll::create(Loop& loop, int fd) {
  auto poll = Poll::create(loop, fd);
  if (!poll) {
    return std::unexpected(poll.error());
  }
  return AsyncPoll(std::make_unique<State>(State{std::move(*poll)}));
}

void AsyncPoll::State::on_event(std::error_code ec, PollEvents ready) {
  Awaiter* awaiter = std::exchange(waiting, nullptr);
  poll.set_referenced(false);  // armed with nobody waiting must not keep the loop running
  if (awaiter == nullptr) {
    poll.stop();  // ready, but nobody waits: pause until the next wait re-arms
    return;
  }
  if (ec) {
    awaiter->result_ = std::unexpected(ec);
  } else {
    awaiter->result_ = ready;
  }
  awaiter->coroutine_.resume();  // last action: the coroutine may destroy this AsyncPoll
}

AsyncPoll::Awaiter::~Awaiter() {
  // A coroutine destroyed while waiting: forget it, leave the poll armed (it pauses itself if the
  // descriptor becomes ready with nobody waiting).
  if (owner_.state_ && owner_.state_->waiting == this) {
    owner_.state_->waiting = nullptr;
    owner_.state_->poll.set_referenced(false);
  }
}

bool AsyncPoll::Awaiter::await_suspend(std::coroutine_handle<> coroutine) {
  State& state = *owner_.state_;
  if (state.waiting != nullptr) {
    result_ = std::unexpected(std::make_error_code(std::errc::device_or_resource_busy));
    return false;
  }
  // Re-arm only when the wanted events differ from what is armed: an unchanged mask costs nothing.
  if (state.poll.events() != events_) {
    auto ec = state.poll.start(events_,
                               [s = &state](std::error_code e, PollEvents ready) { s->on_event(e, ready); });
    if (ec) {
      result_ = std::unexpected(ec);
      return false;
    }
  }
  coroutine_ = coroutine;
  state.waiting = this;
  state.poll.set_referenced(true);
  return true;
}

}  // namespace fg::loop
