#include "loop/path_watch.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <vector>

#include "loop/unique_fd.hpp"
#include "tests/support/loop_fixture.hpp"
#include "tests/support/temp_dir.hpp"

namespace fg::loop {
namespace {

namespace fs = std::filesystem;

class PathWatchTest : public test::LoopTest {
 protected:
  std::vector<PathChange> seen;

  PathWatch::Callback recorder() {
    return [this](PathChange c) {
      seen.push_back(c);
      loop.stop();
    };
  }

  // Does `action`, then runs the loop until the watch reports something, and returns the last report.
  PathChange after(const std::function<void()>& action) {
    seen.clear();
    action();
    run_expecting_stop();
    loop.run_once_nowait();  // collect what the same batch of kernel events still held
    return seen.empty() ? PathChange::modified : seen.back();
  }
};

TEST_F(PathWatchTest, FileAppearsChangesDisappearsAndReturns) {
  test::TempDir dir;
  auto path = dir / "fieldgate.toml";
  auto watch = PathWatch::create(loop, path, recorder());
  ASSERT_TRUE(watch);
  EXPECT_FALSE(watch->exists());
  EXPECT_EQ(after([&] { test::write_file(path, "a=1"); }), PathChange::appeared);
  EXPECT_TRUE(watch->exists());
  EXPECT_EQ(after([&] { test::write_file(path, "a=2"); }), PathChange::modified);
  EXPECT_EQ(after([&] { fs::remove(path); }), PathChange::disappeared);
  EXPECT_FALSE(watch->exists());
  EXPECT_EQ(after([&] { test::write_file(path, "a=3"); }), PathChange::appeared);
  EXPECT_EQ(after([&] { test::write_file(path, "a=4"); }), PathChange::modified);  // watching the new file
}

TEST_F(PathWatchTest, EditorRenameOverTheFileIsAReplacement) {
  test::TempDir dir;
  auto path = dir / "fieldgate.toml";
  test::write_file(path, "old");
  auto watch = PathWatch::create(loop, path, recorder());
  ASSERT_TRUE(watch);
  EXPECT_TRUE(watch->exists());
  test::write_file(dir / ".fieldgate.toml.swp", "new");
  EXPECT_EQ(after([&] { fs::rename(dir / ".fieldgate.toml.swp", path); }), PathChange::replaced);
  EXPECT_EQ(after([&] { test::write_file(path, "newer"); }),
            PathChange::modified);  // the new inode is watched
}

// udev removes /dev/serial/by-id itself when the last adapter goes and creates it again on replug.
TEST_F(PathWatchTest, ByIdLinkWhoseDirectoriesComeAndGo) {
  test::TempDir dev;
  auto by_id = dev.path() / "serial" / "by-id";
  auto link = by_id / "usb-FTDI_FT232R-if00-port0";
  auto watch = PathWatch::create(loop, link, recorder(), PathWatch::Scope::existence);
  ASSERT_TRUE(watch) << watch.error().message();
  EXPECT_FALSE(watch->exists());
  test::write_file(dev / "ttyUSB0", "");
  EXPECT_EQ(after([&] {
              fs::create_directories(by_id);
              fs::create_symlink("../../ttyUSB0", link);
            }),
            PathChange::appeared);
  EXPECT_EQ(after([&] { fs::remove_all(dev.path() / "serial"); }), PathChange::disappeared);
  EXPECT_EQ(after([&] {
              fs::create_directories(by_id);
              fs::create_symlink("../../ttyUSB0", link);
            }),
            PathChange::appeared);
}

TEST_F(PathWatchTest, UnlinkOfAnOpenDeviceIsSeenAtOnce) {
  test::TempDir dir;
  auto node = dir / "ttyACM0";
  test::write_file(node, "");
  UniqueFd held(::open(node.c_str(), O_RDONLY | O_CLOEXEC));  // the gateway holds the port open
  auto watch = PathWatch::create(loop, node, recorder(), PathWatch::Scope::existence);
  ASSERT_TRUE(watch);
  EXPECT_EQ(after([&] { fs::remove(node); }), PathChange::disappeared);
}

TEST_F(PathWatchTest, ExistenceScopeIgnoresWrites) {
  test::TempDir dir;
  auto node = dir / "ttyACM0";
  test::write_file(node, "");
  auto watch = PathWatch::create(loop, node, recorder(), PathWatch::Scope::existence);
  ASSERT_TRUE(watch);
  test::write_file(node, "data written to the port");
  EXPECT_EQ(after([&] { fs::remove(node); }), PathChange::disappeared);
  EXPECT_EQ(seen, (std::vector<PathChange>{PathChange::disappeared}));
}

}  // namespace
}  // namespace fg::loop
