#include "loop/background_job.hpp"

#include <cerrno>
#include <utility>

namespace fg::loop {

struct BackgroundJob::Request {
  uv_work_t work{};
  Job job;
  Done done;
  BackgroundJob* owner = nullptr;  // null once the owner is gone
  std::error_code result;
};

BackgroundJob::~BackgroundJob() {
  if (request_ != nullptr) {
    request_->owner = nullptr;
  }
}

bool BackgroundJob::start(Job job, Done done) {
  if (request_ != nullptr) {
    return false;
  }
  auto* request = new Request;
  request->job = std::move(job);
  request->done = std::move(done);
  request->owner = this;
  request->work.data = request;
  if (uv_queue_work(loop_->raw(), &request->work, on_work, on_done) != 0) {
    delete request;
    return false;
  }
  request_ = request;
  return true;
}

void BackgroundJob::on_work(uv_work_t* work) noexcept {
  auto* request = static_cast<Request*>(work->data);
  try {
    request->result = request->job();
  } catch (...) {
    request->result =
        std::make_error_code(std::errc::io_error);  // a job must not throw; if it does, it failed
  }
}

void BackgroundJob::on_done(uv_work_t* work, int status) noexcept {
  auto* request = static_cast<Request*>(work->data);
  // The job's captures (its descriptor) go here, on the loop thread, whatever became of the owner.
  Done done = std::move(request->done);
  BackgroundJob* owner = request->owner;
  const std::error_code result =
      status == UV_ECANCELED ? std::make_error_code(std::errc::operation_canceled) : request->result;
  delete request;
  if (owner == nullptr) {
    return;
  }
  owner->request_ = nullptr;
  if (done) {
    try {
      done(result);
    } catch (...) {
      // No exception crosses the loop (DESIGN.md convention 3); `done` reports its own failures.
    }
  }
}

}  // namespace fg::loop
