#include "gateway/cli.hpp"

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <uv.h>

#include "gateway/version.hpp"

namespace fg::gateway {

int run_cli(int argc, char** argv) {
  CLI::App app{"fieldgate: a small native gateway from serial and GPIO devices to MQTT, for Raspberry Pi-class boards"};
  app.require_subcommand(1);

  auto* version = app.add_subcommand("version", "Print the version and the libraries it runs on");
  version->callback([] {
    fmt::print("fieldgate {} ({}) libuv {}\n", kVersion, kTargetProcessor, uv_version_string());
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  return 0;
}

}  // namespace fg::gateway
