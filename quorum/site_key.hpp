#pragma once
// SiteKey: the 32-byte key every gateway of a site shares; it authenticates and encrypts every quorum
// datagram (secure_channel.hpp). It lives in libsodium's guarded memory (sodium_malloc: guard pages,
// mlock where the limit allows, kept out of core dumps where the kernel supports it) and is zeroed when
// freed.
//
// The key file holds the key as 64 hex digits and a newline. `fieldgate keygen FILE` (keygen below)
// makes one; the same file is copied to every gateway of the site.
//
// Permissions: load_site_key refuses a file that other users may access at all (mode & 0007), but
// accepts a group-readable one (0640). The normal systemd deployment is a root:fieldgate 0640 file
// that root administers and the daemon's group reads; demanding 0600 would force the daemon's user to
// own its own key file, which lets a compromised daemon rewrite it.
//
// This header (and secure_channel.hpp, which includes it) must not use <expected>: the fuzz targets are
// built with clang 14 and libstdc++ 12, which lack std::expected.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>

namespace fg::quorum {

class SiteKey {
 public:
  static constexpr std::size_t kSize = 32;

  // A key with these bytes (for tests and the fuzz targets; production keys come from load_site_key).
  // Like operator new, the constructors throw std::bad_alloc if sodium_malloc fails.
  explicit SiteKey(std::span<const std::uint8_t, kSize> bytes);
  // A fresh random key (randombytes_buf).
  static SiteKey random();

  SiteKey(const SiteKey& other);
  SiteKey& operator=(const SiteKey& other);
  SiteKey(SiteKey&& other) noexcept;
  SiteKey& operator=(SiteKey&& other) noexcept;
  ~SiteKey();

  std::span<const std::uint8_t, kSize> bytes() const noexcept {
    return std::span<const std::uint8_t, kSize>(bytes_, kSize);
  }

 private:
  SiteKey();  // allocated, not yet filled
  void release() noexcept;

  std::uint8_t* bytes_ = nullptr;  // kSize bytes from sodium_malloc; nullptr only after a move
};

// The outcome of load_site_key: the key, or a message of the form "PATH: what is wrong; what to do".
struct SiteKeyLoad {
  std::optional<SiteKey> key;
  std::string error;

  explicit operator bool() const noexcept { return key.has_value(); }
};

// Reads a key file written by keygen: exactly 64 hex digits (either case) and an optional line end.
// Fails on a missing or unreadable file, a file other users may access, or any other content.
SiteKeyLoad load_site_key(const std::filesystem::path& path);

// Writes a new random key to `path`, which must not exist yet (a key is never overwritten: replacing a
// site key cuts the gateway off from its peers), with mode 0600, and makes it durable (fsync of the file
// and its directory). Returns an empty string on success, else "PATH: what is wrong". A failed write
// leaves no partial file behind.
std::string keygen(const std::filesystem::path& path);

// libsodium's one-time initialisation (idempotent and thread-safe); false if libsodium cannot work here.
// Everything in quorum that uses libsodium calls it, so callers need not.
bool init_sodium() noexcept;

}  // namespace fg::quorum
