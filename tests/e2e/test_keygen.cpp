// End to end: `fieldgate keygen FILE` writes a new site key (64 lowercase hex digits and a newline, mode
// 0600) and prints nothing; it refuses to overwrite any existing file and says why on stderr with exit 1.

#include <gmock/gmock.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "tests/e2e/e2e_support.hpp"

namespace fg::e2e {
namespace {

using ::testing::MatchesRegex;

class E2eKeygen : public ::testing::Test {
 protected:
  struct Result {
    int exit_code = -1;
    std::string out;
    std::string err;
  };

  Result fieldgate(const std::vector<std::string>& args) {
    std::vector<std::string> argv = test::own_program(FIELDGATE_BINARY);
    argv.insert(argv.end(), args.begin(), args.end());
    const std::string name = "run" + std::to_string(++runs_);
    auto out = dir_ / (name + ".out");
    auto err = dir_ / (name + ".err");
    auto status = run_to_end(argv, out, err);
    Result r;
    r.exit_code = status && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
    r.out = read_text(out);
    r.err = read_text(err);
    return r;
  }

  test::TempDir dir_;
  int runs_ = 0;
};

TEST_F(E2eKeygen, WritesAFreshKeyWithMode0600AndPrintsNothing) {
  const std::string path = (dir_ / "site.key").string();
  Result r = fieldgate({"keygen", path});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "");
  EXPECT_THAT(read_text(path), MatchesRegex("[0-9a-f]{64}\n"));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);

  const std::string other = (dir_ / "other.key").string();
  ASSERT_EQ(fieldgate({"keygen", other}).exit_code, 0);
  EXPECT_NE(read_text(path), read_text(other));
}

TEST_F(E2eKeygen, RefusesToOverwriteAnExistingFile) {
  const std::string path = (dir_ / "site.key").string();
  test::write_file(path, "keep me\n");
  Result r = fieldgate({"keygen", path});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            path +
                ": already exists; keygen never overwrites a key file (replacing the site key cuts this "
                "gateway off from its peers until they all have the new one)\n");
  EXPECT_EQ(read_text(path), "keep me\n");
}

TEST_F(E2eKeygen, NamesThePathItCannotCreate) {
  const std::string path = (dir_ / "missing" / "site.key").string();
  Result r = fieldgate({"keygen", path});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, path + ": cannot create the key file: No such file or directory\n");
}

TEST_F(E2eKeygen, WithoutAFileItIsAUsageError) {
  Result r = fieldgate({"keygen"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, ::testing::HasSubstr("file is required"));
}

}  // namespace
}  // namespace fg::e2e
