#include "tests/bench/quorum/control_client.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace fg::test::bench {

namespace {

std::string errno_text(const std::string& what) {
  return "fieldgate control socket: " + what + ": " + std::strerror(errno);
}

}  // namespace

ControlClient::~ControlClient() {
  close();
}

void ControlClient::close() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  buffer_.clear();
}

OpResult ControlClient::connect() {
  close();
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_.native().size() >= sizeof addr.sun_path) {
    return std::unexpected("fieldgate control socket path too long: " + socket_.string());
  }
  std::memcpy(addr.sun_path, socket_.c_str(), socket_.native().size() + 1);
  fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    return std::unexpected(errno_text("socket"));
  }
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    auto error = errno_text("connect " + socket_.string());
    close();
    return std::unexpected(error);
  }
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout_.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>(timeout_.count() % 1000 * 1000);
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return {};
}

std::expected<std::string, std::string> ControlClient::read_line() {
  for (;;) {
    if (auto end = buffer_.find('\n'); end != std::string::npos) {
      std::string line = buffer_.substr(0, end);
      buffer_.erase(0, end + 1);
      return line;
    }
    char chunk[4096];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n > 0) {
      buffer_.append(chunk, static_cast<std::size_t>(n));
    } else if (n == 0) {
      return std::unexpected("fieldgate control socket: the daemon closed the connection");
    } else if (errno != EINTR) {
      return std::unexpected(errno == EAGAIN || errno == EWOULDBLOCK
                                 ? "fieldgate control socket: no reply within " +
                                       std::to_string(timeout_.count()) + " ms"
                                 : errno_text("recv"));
    }
  }
}

OpResult ControlClient::send_all(const std::string& bytes) {
  if (fd_ < 0) {
    if (auto connected = connect(); !connected) {
      return connected;
    }
  }
  for (std::size_t sent = 0; sent < bytes.size();) {
    ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      auto error = errno_text("send");
      close();
      return std::unexpected(error);
    }
    sent += static_cast<std::size_t>(n);
  }
  return {};
}

std::expected<std::pair<std::uint64_t, nlohmann::json>, std::string> ControlClient::read_reply() {
  auto reply_line = read_line();
  if (!reply_line) {
    // What comes later on this connection can no longer be matched to a request: start afresh.
    close();
    return std::unexpected(reply_line.error());
  }
  auto reply = nlohmann::json::parse(*reply_line, nullptr, /*allow_exceptions=*/false);
  if (!reply.is_object()) {
    close();
    return std::unexpected("fieldgate control socket: not a JSON object: " + *reply_line);
  }
  auto reply_id = reply.find("id");
  std::uint64_t id =
      reply_id != reply.end() && reply_id->is_number_unsigned() ? reply_id->get<std::uint64_t>() : 0;
  return std::pair{id, std::move(reply)};
}

std::expected<nlohmann::json, std::string> ControlClient::call(nlohmann::json request) {
  std::uint64_t id = next_id_++;
  request["id"] = id;
  if (auto sent = send_all(request.dump() + "\n"); !sent) {
    return std::unexpected(sent.error());
  }
  for (;;) {
    auto reply = read_reply();
    if (!reply) {
      return std::unexpected(reply.error());
    }
    if (reply->first == id) {
      return std::move(reply->second);
    }
  }
}

std::expected<std::size_t, std::string> ControlClient::pipeline(std::vector<nlohmann::json> requests) {
  std::uint64_t first = next_id_;
  std::string bytes;
  for (auto& request : requests) {
    request["id"] = next_id_++;
    bytes += request.dump() + "\n";
  }
  if (auto sent = send_all(bytes); !sent) {
    return std::unexpected(sent.error());
  }
  std::size_t answered = 0;
  std::size_t ok = 0;
  while (answered < requests.size()) {
    auto reply = read_reply();
    if (!reply) {
      return std::unexpected(reply.error());
    }
    if (reply->first >= first && reply->first < next_id_) {
      ++answered;
      auto flag = reply->second.find("ok");
      ok += flag != reply->second.end() && flag->is_boolean() && flag->get<bool>() ? 1 : 0;
    }
  }
  return ok;
}

OpResult ControlClient::expect_ok(nlohmann::json request) {
  auto reply = call(std::move(request));
  if (!reply) {
    return std::unexpected(reply.error());
  }
  auto ok = reply->find("ok");
  if (ok == reply->end() || !ok->is_boolean()) {
    return std::unexpected("fieldgate: a reply without \"ok\": " + reply->dump());
  }
  if (!ok->get<bool>()) {
    auto error = reply->find("error");
    return std::unexpected("fieldgate: " + (error != reply->end() && error->is_string()
                                                ? error->get<std::string>()
                                                : reply->dump()));
  }
  return {};
}

OpResult ControlClient::put(const std::string& key, const std::string& value) {
  return expect_ok({{"op", "put"}, {"key", key}, {"value", value}});
}

OpResult ControlClient::get(const std::string& key) {
  return expect_ok({{"op", "get"}, {"key", key}});
}

}  // namespace fg::test::bench
