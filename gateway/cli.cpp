#include "gateway/cli.hpp"

#include <fmt/core.h>
#include <uv.h>
#include <CLI/CLI.hpp>

#include <cstdio>

#include "gateway/config.hpp"
#include "gateway/gateway.hpp"
#include "gateway/log.hpp"
#include "gateway/version.hpp"
#include "loop/loop.hpp"
#include "quorum/site_key.hpp"

namespace fg::gateway {
namespace {

// Loads and checks a config; prints every issue to stderr. Returns the config or nothing.
std::optional<Config> load_checked(const std::string& path) {
  auto config = load_config(path);
  if (!config) {
    for (const auto& issue : config.error()) {
      std::fprintf(stderr, "%s\n", issue.format().c_str());
    }
    return std::nullopt;
  }
  return std::move(*config);
}

int run(const std::string& config_path, const std::string& log_level_override) {
  detect_journal();
  auto config = load_checked(config_path);
  if (!config) {
    return 1;
  }
  // The command line's level (already checked by CLI11) wins over the config's.
  set_log_level(parse_log_level(log_level_override).value_or(config->gateway.log_level));

  loop::Loop loop;
  int status = 0;
  {
    Gateway gateway(loop, std::move(*config));
    if (gateway.start()) {
      gateway.shutdown();
      status = 1;
    }
    loop.run();
  }
  // Whatever the gateway closed on its way out is reaped here; an open handle now is a bug to report.
  if (loop.close()) {
    status = 1;
  }
  return status;
}

int check(const std::string& config_path) {
  auto config = load_checked(config_path);
  if (!config) {
    return 1;
  }
  fmt::print("{}: ok: gateway {}, {} serial device(s), broker {}:{}\n", config_path, config->gateway.id,
             config->serial.size(), config->mqtt.host, config->mqtt.port);
  return 0;
}

// Quiet on success, like other key generators: the file is the output.
int keygen(const std::string& path) {
  if (std::string error = quorum::keygen(path); !error.empty()) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  return 0;
}

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App app{
      "fieldgate: a small native gateway from serial and GPIO devices to MQTT, for Raspberry Pi-class "
      "boards"};
  app.require_subcommand(1);
  int status = 0;

  auto* version = app.add_subcommand("version", "Print the version and the libraries it runs on");
  version->callback(
      [] { fmt::print("fieldgate {} ({}) libuv {}\n", kVersion, kTargetProcessor, uv_version_string()); });

  std::string config_path = "/etc/fieldgate/fieldgate.toml";
  std::string log_level;
  auto* run_cmd = app.add_subcommand("run", "Run the gateway");
  run_cmd->add_option("-c,--config", config_path, "The configuration file")->capture_default_str();
  run_cmd
      ->add_option("--log-level", log_level, "error, warning, notice, info or debug (overrides the config)")
      ->check(CLI::IsMember({"error", "warning", "notice", "info", "debug"}));
  run_cmd->callback([&] { status = run(config_path, log_level); });

  std::string check_path;
  auto* check_cmd = app.add_subcommand("check", "Check a configuration file without running it");
  check_cmd->add_option("file", check_path, "The configuration file")->required();
  check_cmd->callback([&] { status = check(check_path); });

  std::string key_path;
  auto* keygen_cmd = app.add_subcommand(
      "keygen",
      "Write a new random site key (64 hex digits, mode 0600) that authenticates the quorum traffic "
      "between the site's gateways; copy the file to every gateway. Never overwrites a file");
  keygen_cmd->add_option("file", key_path, "The key file to create")->required();
  keygen_cmd->callback([&] { status = keygen(key_path); });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  return status;
}

}  // namespace fg::gateway
