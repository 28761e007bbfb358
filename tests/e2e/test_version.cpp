// End to end: `fieldgate version` names the program's version, the processor it was built for, and the
// libraries that decide what it can do on this machine: libuv, and libgpiod (GPIO through the character
// device) or, in a build without it, that GPIO works through sysfs only. tests/install/check-package.sh
// runs the same command on every package.

#include <gmock/gmock.h>

#include <string>

#include "devices/gpio/line.hpp"
#include "tests/e2e/e2e_support.hpp"

namespace fg::e2e {
namespace {

using ::testing::MatchesRegex;

TEST(E2eVersion, NamesTheVersionLibuvAndTheGpioBackend) {
  test::TempDir dir;
  std::vector<std::string> argv = test::own_program(FIELDGATE_BINARY);
  argv.push_back("version");
  const auto status = run_to_end(argv, dir / "out", dir / "err");
  ASSERT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << read_text(dir / "err");
  const std::string out = read_text(dir / "out");
  // The program links the same devices library as this test, so the test knows what it must say.
  const std::string gpio = devices::gpio::gpiod_api() == 0
                               ? std::string("GPIO: sysfs only \\(no libgpiod\\)")
                               : "libgpiod " + std::string(devices::gpio::gpiod_version());
  EXPECT_THAT(out, MatchesRegex("fieldgate [0-9]+\\.[0-9]+\\.[0-9]+ \\(.+\\) libuv [0-9.]+ " + gpio + "\n"));
  if (devices::gpio::gpiod_api() != 0) {
    EXPECT_THAT(devices::gpio::gpiod_version(), MatchesRegex("[0-9]+\\.[0-9]+.*"));
  }
}

}  // namespace
}  // namespace fg::e2e
