#pragma once
// Awaitables for Task<T>: from_callback() turns any callback-style operation into an awaitable, and the
// everyday waits are built on it: sleep_for() and one-shot readable() / writable() / priority().
//
// One-shot waits create and drop a Poll each time (four epoll_ctl calls); a coroutine that waits on
// the same descriptor again and again should use AsyncPoll (async_poll.hpp), which stays armed.

#include <chrono>
#include <coroutine>
#include <expected>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

#include "loop/loop.hpp"
#include "loop/poll.hpp"
#include "loop/timer.hpp"

namespace fg::loop {

namespace detail {

template <typename T>
using ResultSlot = std::conditional_t<std::is_void_v<T>, std::optional<std::monostate>, std::optional<T>>;

// Shared by an awaiter and the callbacks it handed out: a callback may outlive the awaiter (an
// operation that cannot be cancelled completes after its coroutine was destroyed) and then finds no
// coroutine to resume.
template <typename T>
struct CallbackShared {
  ResultSlot<T> result;
  std::coroutine_handle<> waiting;
};

}  // namespace detail

// The completion callback handed to a from_callback() starter. Copyable; the first call wins.
template <typename T>
class Resolve {
 public:
  explicit Resolve(std::shared_ptr<detail::CallbackShared<T>> shared) : shared_(std::move(shared)) {}

  template <typename... Args>
  void operator()(Args&&... args) const {
    if (shared_->result) {
      return;
    }
    if constexpr (std::is_void_v<T>) {
      static_assert(sizeof...(Args) == 0, "Resolve<void> takes no value");
      shared_->result.emplace();
    } else {
      shared_->result.emplace(std::forward<Args>(args)...);
    }
    // Resuming is the last thing done here: the coroutine may destroy whatever called us.
    if (auto waiting = std::exchange(shared_->waiting, {})) {
      waiting.resume();
    }
  }

 private:
  std::shared_ptr<detail::CallbackShared<T>> shared_;
};

// Awaits a callback-style operation. `start(Resolve<T>)` begins it and returns the object that keeps it
// running (a Timer, a Poll, a request handle) or nothing; that object is kept until the coroutine
// resumes and destroyed when it does, or when the coroutine is destroyed first, so its destructor is
// the operation's cancellation. `start` may resolve at once; the coroutine then does not suspend.
template <typename T, typename Start>
class CallbackAwaiter {
 public:
  explicit CallbackAwaiter(Start start)
      : start_(std::move(start)), shared_(std::make_shared<detail::CallbackShared<T>>()) {}
  CallbackAwaiter(const CallbackAwaiter&) = delete;
  CallbackAwaiter& operator=(const CallbackAwaiter&) = delete;
  ~CallbackAwaiter() { shared_->waiting = {}; }

  bool await_ready() const noexcept { return false; }

  bool await_suspend(std::coroutine_handle<> coroutine) {
    Resolve<T> resolve(shared_);
    if constexpr (std::is_void_v<std::invoke_result_t<Start&, Resolve<T>>>) {
      start_(std::move(resolve));
    } else {
      keep_alive_.emplace(start_(std::move(resolve)));
    }
    if (shared_->result) {
      return false;  // finished synchronously
    }
    shared_->waiting = coroutine;
    return true;
  }

  T await_resume() {
    if constexpr (!std::is_void_v<T>) {
      return std::move(*shared_->result);
    }
  }

 private:
  using KeepAlive = std::invoke_result_t<Start&, Resolve<T>>;
  struct Nothing {};

  Start start_;
  std::shared_ptr<detail::CallbackShared<T>> shared_;
  std::optional<std::conditional_t<std::is_void_v<KeepAlive>, Nothing, KeepAlive>> keep_alive_;
};

template <typename T, typename Start>
CallbackAwaiter<T, Start> from_callback(Start start) {
  return CallbackAwaiter<T, Start>(std::move(start));
}

// Resumes after `duration` on the loop's monotonic clock.
inline auto sleep_for(Loop& loop, std::chrono::milliseconds duration) {
  return from_callback<void>([&loop, duration](Resolve<void> resolve) {
    Timer timer(loop);
    timer.start(duration, [resolve] { resolve(); });
    return timer;
  });
}

using PollResult = std::expected<PollEvents, std::error_code>;

// Resumes once `fd` has one of `events` (or libuv reports an error for it).
inline auto wait_for(Loop& loop, int fd, PollEvents events) {
  return from_callback<PollResult>([&loop, fd, events](Resolve<PollResult> resolve) -> std::optional<Poll> {
    auto poll = Poll::create(loop, fd);
    if (!poll) {
      resolve(std::unexpected(poll.error()));
      return std::nullopt;
    }
    auto on_event = [resolve](std::error_code ec, PollEvents ready) {
      ec ? resolve(std::unexpected(ec)) : resolve(ready);
    };
    if (auto ec = poll->start(events, on_event)) {
      resolve(std::unexpected(ec));
    }
    return std::move(*poll);
  });
}

inline auto readable(Loop& loop, int fd) {
  return wait_for(loop, fd, PollEvents::readable);
}
inline auto writable(Loop& loop, int fd) {
  return wait_for(loop, fd, PollEvents::writable);
}
inline auto priority(Loop& loop, int fd) {
  return wait_for(loop, fd, PollEvents::priority);
}

}  // namespace fg::loop
