#pragma once
// Task<T>: a C++20 coroutine that reads like synchronous code while every wait stays on the loop.
//
//   Task<int> read_twice(Loop& loop, AsyncPoll& port) {
//     co_await sleep_for(loop, 100ms);
//     auto ready = co_await port.readable();   // std::expected<PollEvents, std::error_code>
//     co_return ready ? 1 : 0;
//   }
//
// A Task is lazy: its body starts when it is awaited (by another Task) or when start() is called (from
// plain code; the loop then drives it). The Task object owns the coroutine: destroying it while the
// coroutine waits destroys the coroutine's frame, whose awaiters release what they wait on (a timer is
// closed, a poll stopped), so cancellation is just destruction. An exception thrown in the body is
// kept and rethrown to whoever awaits the Task or calls result(); fieldgate code mostly returns
// std::expected instead, which needs nothing special.

#include <coroutine>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

namespace fg::loop {

template <typename T = void>
class [[nodiscard]] Task;

namespace detail {

// Where a finished coroutine's value or exception waits for its reader.
template <typename T>
class TaskResult {
 public:
  void return_value(T value) { result_.template emplace<1>(std::move(value)); }
  void unhandled_exception() noexcept { result_.template emplace<2>(std::current_exception()); }
  T take() {
    if (result_.index() == 2) {
      std::rethrow_exception(std::get<2>(result_));
    }
    return std::move(std::get<1>(result_));
  }

 private:
  std::variant<std::monostate, T, std::exception_ptr> result_;
};

template <>
class TaskResult<void> {
 public:
  void return_void() noexcept {}
  void unhandled_exception() noexcept { exception_ = std::current_exception(); }
  void take() {
    if (exception_) {
      std::rethrow_exception(exception_);
    }
  }

 private:
  std::exception_ptr exception_;
};

}  // namespace detail

template <typename T>
class [[nodiscard]] Task {
 public:
  struct promise_type : detail::TaskResult<T> {
    std::coroutine_handle<> continuation;
    // Set once the awaiting coroutine has really suspended (the task did not finish synchronously).
    bool awaiter_suspended = false;

    Task get_return_object() noexcept {
      return Task(std::coroutine_handle<promise_type>::from_promise(*this));
    }
    std::suspend_always initial_suspend() noexcept { return {}; }

    // On completion, resume the awaiting coroutine if it is suspended, or return to whoever resumed
    // this one: the awaiter's await_suspend (a synchronous finish), the loop, or start().
    struct FinalAwaiter {
      bool await_ready() noexcept { return false; }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<promise_type> self) noexcept {
        auto& promise = self.promise();
        return promise.awaiter_suspended ? promise.continuation : std::noop_coroutine();
      }
      void await_resume() noexcept {}
    };
    FinalAwaiter final_suspend() noexcept { return {}; }
  };

  Task() noexcept = default;
  Task(Task&& other) noexcept : coroutine_(std::exchange(other.coroutine_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      reset();
      coroutine_ = std::exchange(other.coroutine_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() { reset(); }

  // Runs the body until its first wait (or to the end). For top-level tasks; nested ones are awaited.
  void start() {
    if (coroutine_ && !coroutine_.done()) {
      coroutine_.resume();
    }
  }
  bool done() const noexcept { return !coroutine_ || coroutine_.done(); }
  // The value (or the exception rethrown) of a finished task. Call once; requires done().
  T result() { return coroutine_.promise().take(); }

  // Cancels a waiting task: its frame and everything it waits on are released now.
  void reset() noexcept {
    if (coroutine_) {
      std::exchange(coroutine_, {}).destroy();
    }
  }

  // Awaiting a Task runs it at once; if it finishes without waiting, the awaiter goes on without
  // suspending, else the task resumes the awaiter when it finishes. This keeps the stack flat in a
  // loop of awaits that complete synchronously (a buffered reader), which symmetric transfer alone
  // does not guarantee: g++ without optimisation does not turn it into a tail call.
  auto operator co_await() noexcept {
    struct Awaiter {
      std::coroutine_handle<promise_type> task;
      bool await_ready() noexcept { return !task || task.done(); }
      bool await_suspend(std::coroutine_handle<> awaiting) {
        auto& promise = task.promise();
        promise.continuation = awaiting;
        task.resume();
        if (task.done()) {
          return false;
        }
        promise.awaiter_suspended = true;
        return true;
      }
      T await_resume() { return task.promise().take(); }
    };
    return Awaiter{coroutine_};
  }

 private:
  explicit Task(std::coroutine_handle<promise_type> coroutine) noexcept : coroutine_(coroutine) {}
  std::coroutine_handle<promise_type> coroutine_;
};

}  // namespace fg::loop
