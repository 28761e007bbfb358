// End to end: configuration errors. `fieldgate run --config BAD` exits 1 before doing anything, and its
// stderr is exactly the issues `fieldgate check BAD` prints, one "FILE:LINE:COLUMN: KEY: MESSAGE" per
// line; `check` on a good file exits 0 with a one-line summary on stdout.

#include <sys/stat.h>

#include <string>
#include <vector>

#include "tests/e2e/e2e_support.hpp"

namespace fg::e2e {
namespace {

class E2eConfigErrors : public ::testing::Test {
 protected:
  struct Result {
    std::optional<int> status;
    std::string out;
    std::string err;
  };

  // Runs fieldgate with `args` to its end (stdout and stderr kept apart).
  Result fieldgate(const std::vector<std::string>& args, const std::string& name) {
    std::vector<std::string> argv{FIELDGATE_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    auto out = dir_ / (name + ".out");
    auto err = dir_ / (name + ".err");
    Result r;
    r.status = run_to_end(argv, out, err);
    r.out = read_text(out);
    r.err = read_text(err);
    return r;
  }

  static int exit_code(const Result& r) {
    return r.status && WIFEXITED(*r.status) ? WEXITSTATUS(*r.status) : -1;
  }

  test::TempDir dir_;
};

TEST_F(E2eConfigErrors, RunExitsOneWithExactlyTheIssuesCheckPrints) {
  const std::string file = (dir_ / "bad.toml").string();
  test::write_file(file,
                   "[gateway]\n"                 // 1
                   "id = \"bad id\"\n"           // 2
                   "\n"                          // 3
                   "[mqtt]\n"                    // 4
                   "port = \"1883\"\n"           // 5
                   "keepalive = 30\n"            // 6
                   "\n"                          // 7
                   "[[serial]]\n"                // 8
                   "name = \"a\"\n"              // 9
                   "path = \"/dev/ttyUSB0\"\n"   // 10
                   "bauds = 9600\n"              // 11
                   "framing = \"fixed\"\n"       // 12
                   "\n"                          // 13
                   "[[serial]]\n"                // 14
                   "name = \"a\"\n"              // 15
                   "path = \"/dev/ttyUSB1\"\n"   // 16
                   "parser = \"regex\"\n"        // 17
                   "pattern = '(?P<t>\\d+'\n");  // 18
  const std::vector<std::string> issues = {
      ":2:6: gateway.id: must match [A-Za-z0-9_-]+ (one MQTT topic level), got \"bad id\"",
      ":5:8: mqtt.port: expected an integer, got a string",
      ":6:13: mqtt.keepalive: expected a duration string with a unit, such as \"30s\" "
      "(units: ms, s, min, h), got an integer",
      ":8:1: serial[0].record_size: required when framing = \"fixed\"",
      ":11:1: serial[0].bauds: unknown key; did you mean \"baud\"?",
      ":15:8: serial[1].name: duplicate device name \"a\", already used by serial[0]",
      ":18:11: serial[1].pattern: invalid regular expression: missing ): (?P<t>\\d+",
  };
  std::string expected;
  for (const auto& issue : issues) {
    expected += file + issue + "\n";
  }

  Result check = fieldgate({"check", file}, "check");
  EXPECT_EQ(exit_code(check), 1) << Process::describe(check.status);
  EXPECT_EQ(check.err, expected);
  EXPECT_EQ(check.out, "");

  Result run = fieldgate({"run", "--config", file}, "run");
  EXPECT_EQ(exit_code(run), 1) << Process::describe(run.status) << "\n" << run.err;
  EXPECT_EQ(run.err, check.err) << "run and check disagree";
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(sanitizer_report(run.err + check.err), "");
}

TEST_F(E2eConfigErrors, SyntaxErrorAndMissingFileHaveNoKey) {
  const std::string syntax = (dir_ / "syntax.toml").string();
  test::write_file(syntax, "[mqtt]\nport = \n");
  const std::string missing = (dir_ / "missing.toml").string();

  for (const auto& [file, expected] : std::vector<std::pair<std::string, std::string>>{
           {syntax, syntax + ":2:8: Error while parsing key-value pair: expected value, saw '\\n'\n"},
           {missing, missing + ": cannot read the file: No such file or directory\n"}}) {
    SCOPED_TRACE(file);
    const std::string stem = std::filesystem::path(file).stem().string();
    Result check = fieldgate({"check", file}, stem + "-check");
    EXPECT_EQ(exit_code(check), 1) << Process::describe(check.status);
    EXPECT_EQ(check.err, expected);
    Result run = fieldgate({"run", "--config", file}, stem + "-run");
    EXPECT_EQ(exit_code(run), 1) << Process::describe(run.status);
    EXPECT_EQ(run.err, check.err);
  }
}

TEST_F(E2eConfigErrors, CheckReportsAWorldReadableSiteKeyAtItsLine) {
  const std::string key = (dir_ / "site.key").string();
  Result keygen = fieldgate({"keygen", key}, "keygen");
  ASSERT_EQ(exit_code(keygen), 0) << keygen.err;
  ASSERT_EQ(::chmod(key.c_str(), 0644), 0);
  const std::string file = (dir_ / "replicated.toml").string();
  std::string text = "[replication]\nnode = 1\nlisten = \"127.0.0.1:7400\"\n";  // lines 1 to 3
  text += "key_file = \"" + key + "\"\n";                                       // line 4
  text += "peers = [{node = 2, address = \"127.0.0.1:7401\"}]\n";               // line 5: a site of 2
  test::write_file(file, text);
  const std::string expected =
      file + ":4:12: replication.key_file: " + key +
      ": key file is accessible by other users (mode 0644); chmod 600 it\n" + file +
      ":5:9: replication.peers: a site has 1, 3 or 5 members (majority quorums: an even count tolerates no "
      "more failures than one fewer); this config has 2\n";

  Result check = fieldgate({"check", file}, "check");
  EXPECT_EQ(exit_code(check), 1) << Process::describe(check.status);
  EXPECT_EQ(check.err, expected);
  EXPECT_EQ(check.out, "");

  // The same key, made private, passes (0640: the daemon's group may read it).
  ASSERT_EQ(::chmod(key.c_str(), 0640), 0);
  test::write_file(file, "[gateway]\nid = \"t1\"\n" + text.substr(0, text.find("peers")));
  Result good = fieldgate({"check", file}, "good");
  EXPECT_EQ(exit_code(good), 0) << Process::describe(good.status) << "\n" << good.err;
  EXPECT_EQ(good.err, "");
  EXPECT_EQ(good.out, file + ": ok: gateway t1, 0 serial device(s), 0 GPIO device(s), broker localhost:1883\n");
  EXPECT_EQ(sanitizer_report(check.err + good.err), "");
}

TEST_F(E2eConfigErrors, CheckAcceptsAGoodFile) {
  const std::string file = (dir_ / "good.toml").string();
  test::write_file(
      file,
      "[gateway]\nid = \"t1\"\n[mqtt]\nhost = \"127.0.0.1\"\nport = 1883\nprefix = \"fg\"\n"
      "[[serial]]\nname = \"weather\"\npath = \"/dev/ttyUSB0\"\nbaud = 115200\nparser = \"kv\"\n"
      "[serial.request]\nreply_pattern = '^(OK|ERR)'\ntimeout = \"300ms\"\n"
      "[serial.channels.t]\nunit = \"°C\"\nscale = 0.1\n"
      "[[serial]]\nname = \"node\"\npath = \"/dev/ttyACM0\"\nframing = \"cobs\"\nparser = \"json\"\n");
  Result check = fieldgate({"check", file}, "check");
  EXPECT_EQ(exit_code(check), 0) << Process::describe(check.status) << "\n" << check.err;
  EXPECT_EQ(check.out, file + ": ok: gateway t1, 2 serial device(s), 0 GPIO device(s), broker 127.0.0.1:1883\n");
  EXPECT_EQ(check.err, "");
}

}  // namespace
}  // namespace fg::e2e
