#pragma once
// Plain blocking unix stream clients for tests of the control socket: the far end is a real socket, not
// a mock. Reads give up after 5 s (SO_RCVTIMEO) so a missing reply fails the test instead of hanging it.

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <string>

#include "loop/unique_fd.hpp"

namespace fg::test {

// Connects to `path`; an empty UniqueFd if that fails (errno says why).
inline loop::UniqueFd connect_unix(const std::string& path) {
  loop::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) {
    return fd;
  }
  timeval limit{5, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    fd.reset();
  }
  return fd;
}

// Writes all of `data` (MSG_NOSIGNAL: a closed peer gives false, not SIGPIPE).
inline bool send_all(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n <= 0) {
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  return true;
}

// Reads up to and including the next '\n' (one byte at a time: simple, and tests read little).
// nullopt on EOF, error or timeout before a full line.
inline std::optional<std::string> read_line(int fd) {
  std::string line;
  char c = 0;
  while (::recv(fd, &c, 1, 0) == 1) {
    line += c;
    if (c == '\n') {
      return line;
    }
  }
  return std::nullopt;
}

// Reads until EOF, an error or the timeout; `clean_eof` says whether it ended with EOF.
inline std::string read_to_end(int fd, bool* clean_eof = nullptr) {
  std::string all;
  char buf[65536];
  ssize_t n = 0;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) {
    all.append(buf, static_cast<std::size_t>(n));
  }
  if (clean_eof != nullptr) {
    *clean_eof = (n == 0);
  }
  return all;
}

}  // namespace fg::test
