#pragma once
// Loop: the one libuv loop of the process. Every handle in loop/ is created on a Loop and must be closed
// before the Loop is; close() says loudly which handles are still open.

#include <uv.h>

#include <chrono>
#include <memory>
#include <system_error>

namespace fg::loop {

class Loop {
 public:
  // Throws std::system_error if the kernel refuses an epoll instance (out of descriptors): there is
  // nothing the program can do without a loop, and this happens before any callback exists.
  Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;
  // Closes the loop if close() was not called. If handles are still open it reports them on stderr and
  // leaks the loop's memory rather than free memory that live handles point into.
  ~Loop();

  // Runs until stop() is called or no referenced handle is left.
  void run();
  // Runs until stop(), until nothing is left, or until `limit` has passed on the monotonic clock,
  // whichever comes first. Returns true if it stopped because the limit was reached.
  bool run_for(std::chrono::milliseconds limit);
  // Runs one iteration without blocking: due timers, ready descriptors, close callbacks.
  void run_once_nowait();
  // Makes the current run() / run_for() return after this iteration. Safe to call from any callback.
  // Outside a run it does nothing (libuv would instead cut the next run short after one iteration).
  void stop() noexcept;

  // Frees the loop. Fails with EBUSY, listing the open handles on stderr, if any handle is still open;
  // handles already being closed are reaped first. Calling it again after success is harmless.
  std::error_code close();

  // The loop's cached monotonic time (updated at the start of each iteration), in milliseconds.
  std::chrono::milliseconds now() const noexcept;
  // Brings now() up to the clock. Timers count from now(), so a timer started late in a long iteration
  // (or outside a run) fires early by the difference; call this first where its length is the point.
  void update_time() noexcept;

  uv_loop_t* raw() noexcept { return loop_.get(); }

 private:
  // Runs libuv's loop in `mode`, noting that it runs so stop() knows whether there is a run to stop.
  void run_mode(uv_run_mode mode);

  std::unique_ptr<uv_loop_t> loop_;
  bool closed_ = false;
  bool running_ = false;
};

}  // namespace fg::loop
