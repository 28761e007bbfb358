#include "quorum/site_key.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>
#include <utility>

namespace fg::quorum {
namespace {

// Owns a descriptor for the functions below (quorum does not link loop's UniqueFd into the fuzz build).
class Fd {
 public:
  explicit Fd(int fd) noexcept : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }

 private:
  int fd_;
};

std::string describe(const std::filesystem::path& path, const std::string& what) {
  return path.string() + ": " + what;
}

std::string errno_text(int err) {
  return std::strerror(err);
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

bool write_all(int fd, const char* data, std::size_t size) noexcept {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return false;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

// Makes the file's directory entry durable too: without it a power cut right after keygen may lose the
// name even though the contents were synced.
int sync_parent_directory(const std::filesystem::path& path) noexcept {
  std::filesystem::path parent = path.parent_path();
  if (parent.empty()) {
    parent = ".";
  }
  Fd dir(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) {
    return errno;
  }
  return ::fsync(dir.get()) == 0 ? 0 : errno;
}

}  // namespace

bool init_sodium() noexcept {
  // sodium_init returns 1 when it had already run: that is success too.
  return ::sodium_init() >= 0;
}

SiteKey::SiteKey() {
  if (!init_sodium()) {
    throw std::bad_alloc();
  }
  bytes_ = static_cast<std::uint8_t*>(::sodium_malloc(kSize));
  if (bytes_ == nullptr) {
    throw std::bad_alloc();
  }
}

SiteKey::SiteKey(std::span<const std::uint8_t, kSize> bytes) : SiteKey() {
  std::memcpy(bytes_, bytes.data(), kSize);
}

SiteKey SiteKey::random() {
  SiteKey key;
  ::randombytes_buf(key.bytes_, kSize);
  return key;
}

SiteKey::SiteKey(const SiteKey& other) : SiteKey(other.bytes()) {}

SiteKey& SiteKey::operator=(const SiteKey& other) {
  if (this != &other) {
    SiteKey copy(other);
    *this = std::move(copy);
  }
  return *this;
}

SiteKey::SiteKey(SiteKey&& other) noexcept : bytes_(std::exchange(other.bytes_, nullptr)) {}

SiteKey& SiteKey::operator=(SiteKey&& other) noexcept {
  if (this != &other) {
    release();
    bytes_ = std::exchange(other.bytes_, nullptr);
  }
  return *this;
}

SiteKey::~SiteKey() {
  release();
}

void SiteKey::release() noexcept {
  // sodium_free zeroes the memory before it unmaps it.
  if (bytes_ != nullptr) {
    ::sodium_free(bytes_);
    bytes_ = nullptr;
  }
}

SiteKeyLoad load_site_key(const std::filesystem::path& path) {
  if (!init_sodium()) {
    return {std::nullopt, describe(path, "libsodium failed to initialise")};
  }
  // O_NONBLOCK so that a FIFO planted at the path cannot hang the start-up (it fails the regular-file
  // check below instead); it changes nothing for a regular file.
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd) {
    const int err = errno;
    if (err == ENOENT) {
      return {std::nullopt, describe(path, "no such key file; make one with `fieldgate keygen " +
                                               path.string() + "` and copy it to every gateway of the site")};
    }
    return {std::nullopt, describe(path, "cannot open the key file: " + errno_text(err))};
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return {std::nullopt, describe(path, "cannot stat the key file: " + errno_text(errno))};
  }
  if (!S_ISREG(st.st_mode)) {
    return {std::nullopt, describe(path, "the key file is not a regular file")};
  }
  if ((st.st_mode & 0007) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return {std::nullopt, describe(path, std::string("key file is accessible by other users (mode ") + mode +
                                             "); chmod 600 it")};
  }
  // 64 digits, an optional "\r\n", and one byte more to tell a longer file.
  constexpr std::size_t kDigits = SiteKey::kSize * 2;
  char text[kDigits + 3] = {};
  std::size_t size = 0;
  while (size < sizeof text) {
    ssize_t n = ::read(fd.get(), text + size, sizeof text - size);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      const int err = errno;
      ::sodium_memzero(text, sizeof text);
      return {std::nullopt, describe(path, "cannot read the key file: " + errno_text(err))};
    }
    if (n == 0) {
      break;
    }
    size += static_cast<std::size_t>(n);
  }
  std::size_t digits = size;
  if (digits > 0 && text[digits - 1] == '\n') {
    --digits;
    if (digits > 0 && text[digits - 1] == '\r') {
      --digits;
    }
  }
  std::string error;
  std::uint8_t bytes[SiteKey::kSize] = {};
  if (digits != kDigits || size == sizeof text) {
    error = "expected 64 hex digits (a 32-byte key) and a newline, as `fieldgate keygen` writes";
  } else {
    for (std::size_t i = 0; i < SiteKey::kSize && error.empty(); ++i) {
      const int high = hex_value(text[2 * i]);
      const int low = hex_value(text[2 * i + 1]);
      if (high < 0 || low < 0) {
        // The offset helps find a typo; the offending character is not printed, since it is key material.
        error = "not a hex digit at offset " + std::to_string(high < 0 ? 2 * i : 2 * i + 1);
      } else {
        bytes[i] = static_cast<std::uint8_t>(high << 4 | low);
      }
    }
  }
  SiteKeyLoad result;
  if (error.empty()) {
    result.key.emplace(std::span<const std::uint8_t, SiteKey::kSize>(bytes));
  } else {
    result.error = describe(path, error);
  }
  ::sodium_memzero(text, sizeof text);
  ::sodium_memzero(bytes, sizeof bytes);
  return result;
}

std::string keygen(const std::filesystem::path& path) {
  if (!init_sodium()) {
    return describe(path, "libsodium failed to initialise");
  }
  // O_EXCL: never overwrite, and never follow a symlink planted at the path.
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0600));
  if (!fd) {
    const int err = errno;
    if (err == EEXIST) {
      return describe(path,
                      "already exists; keygen never overwrites a key file (replacing the site key "
                      "cuts this gateway off from its peers until they all have the new one)");
    }
    return describe(path, "cannot create the key file: " + errno_text(err));
  }
  std::uint8_t bytes[SiteKey::kSize];
  ::randombytes_buf(bytes, sizeof bytes);
  char text[SiteKey::kSize * 2 + 2];
  ::sodium_bin2hex(text, sizeof text, bytes, sizeof bytes);  // lowercase, NUL-terminated
  text[SiteKey::kSize * 2] = '\n';
  int err = 0;
  if (!write_all(fd.get(), text, SiteKey::kSize * 2 + 1) || ::fsync(fd.get()) != 0) {
    err = errno;
  }
  ::sodium_memzero(bytes, sizeof bytes);
  ::sodium_memzero(text, sizeof text);
  if (err != 0) {
    // A half-written key must not be mistaken for a key later, and must not block a retry.
    ::unlink(path.c_str());
    return describe(path, "cannot write the key file: " + errno_text(err));
  }
  if (int dir_err = sync_parent_directory(path); dir_err != 0) {
    return describe(path, "written, but its directory could not be synced: " + errno_text(dir_err));
  }
  return {};
}

}  // namespace fg::quorum
