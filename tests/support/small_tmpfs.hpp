#pragma once
// SmallTmpfs: a tmpfs of a few hundred KiB mounted on a fresh directory, for tests of what a full disk
// does (ENOSPC) on the kernel's own file system rather than the simulated disk. Mounting needs root (CI
// runs the tests as root); where it is refused, mounted() is false and why() says why: the test skips.
// The mount goes with the object (lazily, so a descriptor still open does not keep it).

#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

#include "tests/support/temp_dir.hpp"

namespace fg::test {

class SmallTmpfs {
 public:
  explicit SmallTmpfs(std::size_t kib) {
    const std::string options = "size=" + std::to_string(kib) + "k";
    if (!dir_.valid()) {
      why_ = "no temporary directory";
    } else if (::mount("fg-test-tmpfs", dir_.path().c_str(), "tmpfs", 0, options.c_str()) != 0) {
      why_ = std::string("mounting a tmpfs is not permitted here: ") + std::strerror(errno);
    } else {
      mounted_ = true;
    }
  }
  SmallTmpfs(const SmallTmpfs&) = delete;
  SmallTmpfs& operator=(const SmallTmpfs&) = delete;
  ~SmallTmpfs() {
    if (mounted_) {
      ::umount2(dir_.path().c_str(), MNT_DETACH);
    }
  }

  bool mounted() const { return mounted_; }
  const std::string& why() const { return why_; }
  const std::filesystem::path& path() const { return dir_.path(); }

 private:
  TempDir dir_;
  bool mounted_ = false;
  std::string why_;
};

}  // namespace fg::test
