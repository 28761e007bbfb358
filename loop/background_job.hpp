#pragma once
// BackgroundJob: one blocking call (an fdatasync on a slow flash card, say) run on libuv's threadpool
// (uv_queue_work), its result handed back on the loop thread. The loop stays the only thread that touches
// the program's state: the job itself must touch nothing but what it owns (a descriptor of its own, for
// instance: dup it before, so the file may be closed, renamed or removed meanwhile).
//
//   loop::BackgroundJob sync(loop);
//   sync.start([fd = std::move(dup)] { return ::fdatasync(fd.get()) == 0 ? std::error_code() : errno_error();
//   },
//              [](std::error_code ec) { ... on the loop thread ... });
//
// One job at a time per BackgroundJob (start() says no while one runs). Destroying it while a job runs
// abandons the job: it still runs to its end (a blocking call cannot be taken back), then what it captured
// is destroyed on the loop thread and `done` is not called. uv_loop_close() reports the loop busy until
// that has happened, so a loop is run to completion before it closes, as with every handle.

#include <functional>
#include <system_error>

#include "loop/loop.hpp"

namespace fg::loop {

class BackgroundJob {
 public:
  using Job = std::move_only_function<std::error_code()>;  // runs on a threadpool thread
  using Done = std::move_only_function<void(std::error_code)>;

  explicit BackgroundJob(Loop& loop) : loop_(&loop) {}
  BackgroundJob(const BackgroundJob&) = delete;
  BackgroundJob& operator=(const BackgroundJob&) = delete;
  ~BackgroundJob();

  // Queues `job`; `done` gets its result on the loop thread. False (nothing queued) while a job runs, or
  // if libuv refuses the work.
  bool start(Job job, Done done);
  bool busy() const noexcept { return request_ != nullptr; }

 private:
  struct Request;
  static void on_work(uv_work_t* work) noexcept;
  static void on_done(uv_work_t* work, int status) noexcept;

  Loop* loop_;
  Request* request_ = nullptr;  // owned by libuv until on_done
};

}  // namespace fg::loop
