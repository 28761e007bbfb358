// FieldgateCluster's failures before the daemon serves: each names its step, and nothing is left running.
// (Serving itself is what bench_quorum exercises once the daemon has replication and the control socket.)

#include "tests/bench/quorum/fieldgate_cluster.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

namespace fg::test::bench {
namespace {

TEST(FieldgateCluster, AMissingBinaryIsNamed) {
  TempDir base;
  FieldgateCluster cluster("/nonexistent/fieldgate");
  auto started = cluster.start(base.path(), true);
  ASSERT_FALSE(started.has_value());
  EXPECT_NE(started.error().find("no fieldgate binary at /nonexistent/fieldgate"), std::string::npos)
      << started.error();
}

TEST(FieldgateCluster, AFailingKeygenIsReportedAndNothingRuns) {
  TempDir base;
  // /bin/false takes any arguments and fails, like a fieldgate without the keygen command.
  FieldgateCluster cluster("/bin/false");
  auto started = cluster.start(base.path(), true);
  ASSERT_FALSE(started.has_value());
  EXPECT_NE(started.error().find("keygen"), std::string::npos) << started.error();
  EXPECT_NE(started.error().find("exit status 1"), std::string::npos) << started.error();
  for (pid_t pid : cluster.pids()) {
    EXPECT_EQ(pid, -1);
  }
  EXPECT_TRUE(cluster.sockets().empty());
}

TEST(FieldgateCluster, AReplicaThatExitsIsReportedWithItsOutput) {
  TempDir base;
  // Stands in for a fieldgate whose `run` rejects the config: it prints the config it was given.
  auto fake = base / "fake-fieldgate";
  write_file(fake,
             "#!/bin/sh\n"
             "if [ \"$1\" = keygen ]; then : > \"$2\"; exit 0; fi\n"
             "cat \"$3\"; echo 'unknown table [replication]' >&2; exit 3\n");
  ASSERT_EQ(::chmod(fake.c_str(), 0755), 0);
  FieldgateCluster cluster(fake.string());
  auto started = cluster.start(base.path(), /*fsync=*/false);
  ASSERT_FALSE(started.has_value());
  const std::string& error = started.error();
  EXPECT_NE(error.find("exited at start (exit status 3)"), std::string::npos) << error;
  EXPECT_NE(error.find("unknown table [replication]"), std::string::npos) << error;
  // The config it was given, as the brief of the daemon's [replication] and [control] tables has it.
  EXPECT_NE(error.find("[replication]\nnode = "), std::string::npos) << error;
  EXPECT_NE(error.find("peers = [ { node = "), std::string::npos) << error;
  EXPECT_NE(error.find("fsync = false"), std::string::npos) << error;
  EXPECT_NE(error.find("site.key"), std::string::npos) << error;
  EXPECT_NE(error.find("[control]\nsocket = "), std::string::npos) << error;
  for (pid_t pid : cluster.pids()) {
    EXPECT_EQ(pid, -1);
  }
}

}  // namespace
}  // namespace fg::test::bench
