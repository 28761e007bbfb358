#include "gateway/control/client.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string_view>

namespace fg::gateway {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// No answer the daemon gives comes near this; a longer one means something other than fieldgate is
// talking, and the client should not grow without bound.
constexpr std::size_t kMaxAnswerBytes = 16 * 1024 * 1024;

std::string hint_for(int err) {
  switch (err) {
    case ENOENT:
    case ECONNREFUSED:
      return " - is fieldgate running?";
    case EACCES:
      // The packaged daemon's socket belongs to the group fieldgate (docs/home-assistant.md).
      return " - is this user in the group that owns the socket? (for the packaged service: "
             "sudo adduser $USER fieldgate, then log in again)";
    case EAGAIN:
    case ETIMEDOUT:
      return " - fieldgate is not accepting connections";
    default:
      return "";
  }
}

// Waits until `fd` is ready for `events` or the deadline passes. Returns false on timeout.
bool wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      return false;
    }
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, static_cast<int>(std::min<std::int64_t>(left.count(), 1 << 30)));
    if (n > 0) {
      return true;  // ready, or an error/hang-up that the next send/recv will report
    }
    if (n < 0 && errno != EINTR) {
      return true;  // let the next send/recv say what is wrong
    }
  }
}

}  // namespace

std::expected<ControlClient, std::string> ControlClient::connect(const std::string& path,
                                                                 std::chrono::milliseconds timeout) {
  auto failed = [&path](int err) {
    return std::unexpected("cannot connect to " + path + ": " + std::strerror(err) + hint_for(err));
  };
  sockaddr_un address{};
  if (path.empty() || path.size() >= sizeof address.sun_path) {
    return failed(ENAMETOOLONG);
  }
  loop::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) {
    return failed(errno);
  }
  // A unix socket connect waits while the listener's backlog is full, for at most SO_SNDTIMEO.
  auto ms = timeout.count() < 1 ? 1 : timeout.count();
  timeval limit{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  while (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    if (errno != EINTR) {
      return failed(errno == EINPROGRESS ? ETIMEDOUT : errno);
    }
  }
  // From here on every wait has its own deadline through poll().
  if (::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) | O_NONBLOCK) != 0) {
    return failed(errno);
  }
  return ControlClient(std::move(fd), path);
}

std::expected<void, std::string> ControlClient::send_line(const std::string& line,
                                                          Clock::time_point deadline) {
  std::size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::send(fd_.get(), line.data() + done, line.size() - done, MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
    } else if (errno == EAGAIN || errno == EINTR) {
      if (!wait_for(fd_.get(), POLLOUT, deadline)) {
        return std::unexpected("fieldgate at " + path_ + " did not take the request in time");
      }
    } else {
      std::string reason = std::strerror(errno);
      // The daemon may have said why before it closed (a client over the connection limit is told so
      // and closed at once): keep what it sent for the caller to find.
      char buf[16384];
      for (ssize_t got; (got = ::recv(fd_.get(), buf, sizeof buf, MSG_DONTWAIT)) > 0;) {
        input_.append(buf, static_cast<std::size_t>(got));
      }
      fd_.reset();
      return std::unexpected("lost the connection to fieldgate at " + path_ + ": " + reason);
    }
  }
  return {};
}

std::optional<std::string> ControlClient::parting_error() const {
  std::string_view rest(input_);
  for (std::size_t nl; (nl = rest.find('\n')) != std::string_view::npos; rest.remove_prefix(nl + 1)) {
    json answer = json::parse(rest.substr(0, nl), nullptr, false);
    if (answer.is_object() && answer.value("id", json()).is_null() && answer.contains("error") &&
        answer["error"].is_string()) {
      return answer["error"].get<std::string>();
    }
  }
  return std::nullopt;
}

std::expected<void, std::string> ControlClient::receive_more(Clock::time_point deadline,
                                                             std::chrono::milliseconds timeout) {
  if (input_.size() > kMaxAnswerBytes) {
    fd_.reset();
    return std::unexpected("an answer from " + path_ + " is longer than 16 MiB");
  }
  char buf[16384];
  for (;;) {
    ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
    if (n > 0) {
      input_.append(buf, static_cast<std::size_t>(n));
      return {};
    }
    if (n == 0) {
      fd_.reset();
      failure_ = {Failure::closed, {}};
      return std::unexpected("fieldgate closed the connection at " + path_);
    }
    if (errno != EAGAIN && errno != EINTR) {
      std::string reason = std::strerror(errno);
      fd_.reset();
      failure_ = {Failure::closed, {}};
      return std::unexpected("lost the connection to fieldgate at " + path_ + ": " + reason);
    }
    if (!wait_for(fd_.get(), POLLIN, deadline)) {
      failure_ = {Failure::timed_out, {}};
      return std::unexpected("no answer from fieldgate within " + std::to_string(timeout.count()) + " ms");
    }
  }
}

std::expected<nlohmann::json, std::string> ControlClient::request(nlohmann::json request,
                                                                  std::chrono::milliseconds timeout) {
  failure_ = {Failure::other, {}};
  if (!fd_) {
    failure_ = {Failure::closed, {}};
    return std::unexpected("not connected to fieldgate at " + path_);
  }
  auto op = request.is_object() ? request.find("op") : request.end();
  if (!request.is_object() || op == request.end() || !op->is_string()) {
    return std::unexpected(std::string("a request needs a string \"op\""));
  }
  if (!request.contains("id")) {
    request["id"] = next_id_++;
  }
  const json id = request["id"];
  auto deadline = Clock::now() + timeout;
  if (auto sent = send_line(request.dump(-1, ' ', false, json::error_handler_t::replace) + "\n", deadline);
      !sent) {
    failure_ = {Failure::closed, {}};
    return std::unexpected(parting_error().value_or(sent.error()));
  }
  for (;;) {
    for (std::size_t nl; (nl = input_.find('\n')) != std::string::npos;) {
      json answer = json::parse(std::string_view(input_).substr(0, nl), nullptr, false);
      input_.erase(0, nl + 1);
      if (answer.is_discarded() || !answer.is_object()) {
        return std::unexpected("fieldgate at " + path_ + " sent something that is not a JSON object");
      }
      auto answer_id = answer.find("id");
      // An answer with a null id is the daemon saying it could not read a request (or is turning this
      // connection away); with one request in flight, it is about that one.
      bool ours = answer_id == answer.end() || answer_id->is_null() || *answer_id == id;
      if (!ours) {
        continue;  // the late answer to an earlier request that timed out
      }
      auto ok = answer.find("ok");
      if (ok != answer.end() && ok->is_boolean() && ok->get<bool>()) {
        failure_ = {};
        return answer;
      }
      auto code = answer.find("code");
      failure_ = {Failure::answered,
                  code != answer.end() && code->is_string() ? code->get<std::string>() : ""};
      auto error = answer.find("error");
      return std::unexpected(error != answer.end() && error->is_string() ? error->get<std::string>()
                                                                         : std::string("request failed"));
    }
    if (auto more = receive_more(deadline, timeout); !more) {
      if (failure_.kind == Failure::other) {
        failure_ = {Failure::closed, {}};  // an answer longer than the limit: the connection was dropped
      }
      return std::unexpected(more.error());
    }
  }
}

}  // namespace fg::gateway
