#include "mqtt/secret_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "loop/error.hpp"
#include "loop/unique_fd.hpp"

namespace fg::mqtt {

std::expected<std::string, std::error_code> read_secret_file(const std::filesystem::path& path) {
  constexpr std::size_t kMaxSecret = std::size_t{64} * 1024;
  loop::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd) {
    return std::unexpected(loop::errno_error());
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return std::unexpected(loop::errno_error());
  }
  if (S_ISDIR(st.st_mode)) {
    return std::unexpected(std::make_error_code(std::errc::is_a_directory));
  }
  std::string secret;
  char buf[4096];
  while (true) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return std::unexpected(loop::errno_error());
    }
    if (n == 0) {
      break;
    }
    secret.append(buf, static_cast<std::size_t>(n));
    if (secret.size() > kMaxSecret) {
      return std::unexpected(std::make_error_code(std::errc::file_too_large));
    }
  }
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) {
    secret.pop_back();
  }
  if (secret.empty()) {
    return std::unexpected(std::make_error_code(std::errc::invalid_argument));
  }
  return secret;
}

}  // namespace fg::mqtt
