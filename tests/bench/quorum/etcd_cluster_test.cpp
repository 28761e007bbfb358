// EtcdCluster and EtcdClient against real etcd members: the cluster serves linearizable reads through
// every member, state lands where it was asked to, and no member outlives its owner.

#include "tests/bench/quorum/etcd_cluster.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <cerrno>

#include "tests/bench/quorum/etcd_client.hpp"
#include "tests/bench/quorum/process_tools.hpp"

namespace fg::test::bench {
namespace {

constexpr const char* kEtcd = "/usr/bin/etcd";

bool process_exists(pid_t pid) {
  return ::kill(pid, 0) == 0 || errno != ESRCH;
}

class EtcdClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kEtcd)) {
      GTEST_SKIP() << kEtcd << " is not installed (Debian package etcd-server)";
    }
  }
};

TEST_F(EtcdClusterTest, AWriteThroughOneMemberIsReadThroughEveryOther) {
  TempDir base;
  EtcdCluster cluster(kEtcd);
  auto started = cluster.start(base.path());
  ASSERT_TRUE(started.has_value()) << started.error();
  ASSERT_EQ(cluster.endpoints().size(), 3u);

  EtcdClient writer(cluster.endpoints()[0]);
  ASSERT_TRUE(writer.connect().has_value());
  auto put = writer.put("bench/k01", "written through m1");
  ASSERT_TRUE(put.has_value()) << put.error();
  for (const auto& endpoint : cluster.endpoints()) {
    EtcdClient reader(endpoint);
    auto value = reader.read("bench/k01");
    ASSERT_TRUE(value.has_value()) << endpoint << ": " << value.error();
    EXPECT_EQ(*value, "written through m1") << endpoint;
  }
  auto missing = writer.get("bench/never-written");
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().find("0 values"), std::string::npos) << missing.error();
}

TEST_F(EtcdClusterTest, DataLivesUnderTheBaseItWasGiven) {
  EtcdCluster cluster(kEtcd);
  auto started = cluster.start("/dev/shm");
  ASSERT_TRUE(started.has_value()) << started.error();
  EXPECT_EQ(cluster.dir().parent_path(), "/dev/shm");
  EXPECT_TRUE(on_tmpfs(cluster.dir()));
  EXPECT_TRUE(std::filesystem::is_directory(cluster.dir() / "m1.etcd" / "member" / "wal"));

  auto dir = cluster.dir();
  cluster.stop();
  EXPECT_FALSE(std::filesystem::exists(dir)) << "stop() removes the data";
}

TEST_F(EtcdClusterTest, StopAndTheDestructorLeaveNoMemberRunning) {
  TempDir base;
  std::vector<pid_t> pids;
  {
    EtcdCluster cluster(kEtcd);
    auto started = cluster.start(base.path());
    ASSERT_TRUE(started.has_value()) << started.error();
    pids = cluster.pids();
    ASSERT_EQ(pids.size(), 3u);
    for (pid_t pid : pids) {
      EXPECT_GT(pid, 0);
      EXPECT_TRUE(process_exists(pid));
      EXPECT_GT(vm_rss_kib(pid), 0);
    }
    cluster.stop();
    for (pid_t pid : pids) {
      EXPECT_FALSE(process_exists(pid)) << pid;
    }
    ASSERT_TRUE(cluster.start(base.path()).has_value());
    pids = cluster.pids();
  }
  for (pid_t pid : pids) {
    EXPECT_FALSE(process_exists(pid)) << pid << " outlived its EtcdCluster";
  }
}

TEST_F(EtcdClusterTest, AMemberThatCannotStartFailsTheStartWithItsOutput) {
  TempDir base;
  EtcdCluster cluster("/nonexistent/etcd");
  auto started = cluster.start(base.path(), std::chrono::seconds(5));
  ASSERT_FALSE(started.has_value());
  EXPECT_NE(started.error().find("exited at start"), std::string::npos) << started.error();
  EXPECT_NE(started.error().find("/nonexistent/etcd"), std::string::npos) << started.error();
  for (pid_t pid : cluster.pids()) {
    EXPECT_EQ(pid, -1);
  }
}

}  // namespace
}  // namespace fg::test::bench
