#pragma once
// AsyncPoll: a Poll for coroutines that wait on the same descriptor again and again (a serial port, a
// socket). It stays registered with epoll between waits, so a wait costs no epoll_ctl; if the
// descriptor becomes ready while no coroutine waits, polling pauses until the next wait (the poll is
// level-triggered, and readiness nobody consumes would otherwise wake the loop without end). While no
// coroutine waits, the poll does not keep the loop running (uv_unref), as if it were stopped.
//
//   auto port = AsyncPoll::create(loop, fd);
//   while (true) { auto ready = co_await port->readable(); ... read(fd, ...) ... }
//
// One coroutine waits at a time; a second wait() while one is pending fails with EBUSY.

#include <coroutine>
#include <expected>
#include <memory>

#include "loop/await.hpp"
#include "loop/poll.hpp"

namespace fg::loop {

class AsyncPoll {
 public:
  static std::expected<AsyncPoll, std::error_code> create(Loop& loop, int fd);

  AsyncPoll(AsyncPoll&&) noexcept = default;
  AsyncPoll& operator=(AsyncPoll&&) noexcept = default;
  ~AsyncPoll() = default;

  class Awaiter {
   public:
    Awaiter(const Awaiter&) = delete;
    Awaiter& operator=(const Awaiter&) = delete;
    ~Awaiter();
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> coroutine);
    PollResult await_resume() noexcept { return result_; }

   private:
    friend class AsyncPoll;
    Awaiter(AsyncPoll& owner, PollEvents events) noexcept : owner_(owner), events_(events) {}
    AsyncPoll& owner_;
    PollEvents events_;
    std::coroutine_handle<> coroutine_;
    PollResult result_ = PollEvents::none;
  };

  Awaiter wait(PollEvents events) noexcept { return Awaiter(*this, events); }
  Awaiter readable() noexcept { return wait(PollEvents::readable); }
  Awaiter writable() noexcept { return wait(PollEvents::writable); }
  Awaiter priority() noexcept { return wait(PollEvents::priority); }

  int fd() const noexcept { return state_->poll.fd(); }

 private:
  struct State {
    Poll poll;
    Awaiter* waiting = nullptr;
    void on_event(std::error_code ec, PollEvents ready);
  };
  explicit AsyncPoll(std::unique_ptr<State> state) noexcept : state_(std::move(state)) {}
  std::unique_ptr<State> state_;
};

}  // namespace fg::loop
