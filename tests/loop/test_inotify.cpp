#include "loop/inotify.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/support/loop_fixture.hpp"
#include "tests/support/temp_dir.hpp"

namespace fg::loop {
namespace {

using InotifyTest = test::LoopTest;

struct Seen {
  std::uint32_t mask;
  std::string name;
};

TEST_F(InotifyTest, DirectoryCreateModifyDeleteRecreate) {
  test::TempDir dir;
  auto inotify = Inotify::create(loop);
  ASSERT_TRUE(inotify);
  auto wd = inotify->add_watch(dir.path().string(), IN_CREATE | IN_CLOSE_WRITE | IN_DELETE);
  ASSERT_TRUE(wd);
  std::vector<Seen> seen;
  int step = 0;
  // Each step happens after the previous one was seen, so the order is the kernel's, not a race.
  auto next_step = [&] {
    switch (step++) {
      case 0:
        test::write_file(dir / "ttyACM0", "a");
        break;  // create + close_write
      case 1:
        test::write_file(dir / "ttyACM0", "b");
        break;  // close_write
      case 2:
        std::filesystem::remove(dir / "ttyACM0");
        break;  // delete
      case 3:
        test::write_file(dir / "ttyACM0", "c");
        break;  // create again
      default:
        inotify->stop();
        break;
    }
  };
  inotify->start([&](const InotifyEvent& e) {
    EXPECT_EQ(e.watch, *wd);
    seen.push_back({e.mask, std::string(e.name)});
    if ((e.mask & (IN_CLOSE_WRITE | IN_DELETE)) != 0) {
      next_step();
    }
  });
  next_step();
  run_expecting_stop();  // never stopped explicitly: the loop ends when the inotify stops
  std::vector<std::uint32_t> masks;
  for (auto& s : seen) {
    EXPECT_EQ(s.name, "ttyACM0");
    masks.push_back(s.mask & (IN_CREATE | IN_CLOSE_WRITE | IN_DELETE));
  }
  EXPECT_EQ(masks, (std::vector<std::uint32_t>{IN_CREATE, IN_CLOSE_WRITE, IN_CLOSE_WRITE, IN_DELETE,
                                               IN_CREATE, IN_CLOSE_WRITE}));
}

TEST_F(InotifyTest, WatchOnADeletedFileEnds) {
  test::TempDir dir;
  test::write_file(dir / "config.toml", "x");
  auto inotify = Inotify::create(loop);
  ASSERT_TRUE(inotify);
  auto wd = inotify->add_watch((dir / "config.toml").string(), IN_DELETE_SELF);
  ASSERT_TRUE(wd);
  std::vector<std::uint32_t> masks;
  inotify->start([&](const InotifyEvent& e) {
    masks.push_back(e.mask);
    if ((e.mask & IN_IGNORED) != 0) {
      inotify->stop();
    }
  });
  std::filesystem::remove(dir / "config.toml");
  loop.run();
  EXPECT_EQ(masks, (std::vector<std::uint32_t>{IN_DELETE_SELF, IN_IGNORED}));
}

TEST_F(InotifyTest, MissingPathIsAnErrorValue) {
  auto inotify = Inotify::create(loop);
  ASSERT_TRUE(inotify);
  auto wd = inotify->add_watch("/nonexistent/fieldgate", IN_CREATE);
  ASSERT_FALSE(wd);
  EXPECT_EQ(wd.error(), std::errc::no_such_file_or_directory);
}

}  // namespace
}  // namespace fg::loop
