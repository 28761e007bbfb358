#include "loop/loop.hpp"

#include <cstdio>

#include "loop/error.hpp"
#include "loop/timer.hpp"

namespace fg::loop {
namespace {

// Counts handles that are open and not yet closing; with `report` it also names them on stderr.
int count_open_handles(uv_loop_t* loop, bool report) {
  struct Walk {
    int open = 0;
    bool report = false;
  } walk{0, report};
  uv_walk(
      loop,
      [](uv_handle_t* h, void* arg) {
        auto* w = static_cast<Walk*>(arg);
        if (uv_is_closing(h)) {
          return;
        }
        ++w->open;
        if (w->report) {
          std::fprintf(stderr, "fieldgate: loop closed with an open %s handle (%s)\n",
                       uv_handle_type_name(uv_handle_get_type(h)), uv_is_active(h) ? "active" : "inactive");
        }
      },
      &walk);
  return walk.open;
}

}  // namespace

Loop::Loop() : loop_(std::make_unique<uv_loop_t>()) {
  if (int status = uv_loop_init(loop_.get()); status < 0) {
    throw std::system_error(uv_error(status), "uv_loop_init");
  }
}

Loop::~Loop() {
  if (!closed_ && close()) {
    // Live handles still point into the loop: leaking it is the only memory-safe choice.
    (void)loop_.release();
  }
}

void Loop::run_mode(uv_run_mode mode) {
  bool outer = running_;  // a nested run (from a callback) must not end the outer one's flag
  running_ = true;
  uv_run(raw(), mode);
  running_ = outer;
}

void Loop::run() {
  run_mode(UV_RUN_DEFAULT);
}

bool Loop::run_for(std::chrono::milliseconds limit) {
  bool limit_reached = false;
  // Timers count from the loop's cached time, which may be stale if the loop was idle: refresh it so
  // the limit is measured from this call.
  uv_update_time(raw());
  Timer deadline(*this);
  deadline.set_referenced(false);  // the deadline alone must not keep an otherwise idle loop running
  deadline.start(limit, [this, &limit_reached] {
    limit_reached = true;
    stop();
  });
  run_mode(UV_RUN_DEFAULT);
  return limit_reached;
}

void Loop::run_once_nowait() {
  run_mode(UV_RUN_NOWAIT);
}

void Loop::stop() noexcept {
  if (running_) {
    uv_stop(raw());
  }
}

std::error_code Loop::close() {
  if (closed_) {
    return {};
  }
  // Handles whose owners are gone are closing; one non-blocking iteration runs their close callbacks.
  // Iterating when a handle is still open would run user callbacks during shutdown, so only reap.
  while (uv_loop_close(raw()) == UV_EBUSY) {
    if (count_open_handles(raw(), false) > 0) {
      count_open_handles(raw(), true);
      return uv_error(UV_EBUSY);
    }
    uv_run(raw(), UV_RUN_NOWAIT);
  }
  closed_ = true;
  return {};
}

std::chrono::milliseconds Loop::now() const noexcept {
  return std::chrono::milliseconds(uv_now(loop_.get()));
}

void Loop::update_time() noexcept {
  uv_update_time(loop_.get());
}

}  // namespace fg::loop
