#include "gateway/cli.hpp"

#include <fmt/core.h>
#include <uv.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string_view>

#include "devices/gpio/line.hpp"
#include "gateway/config/config.hpp"
#include "gateway/control/client.hpp"
#include "gateway/control/prometheus.hpp"
#include "gateway/control/status.hpp"
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
  fmt::print("{}: ok: gateway {}, {} serial device(s), {} GPIO device(s), broker {}:{}\n", config_path,
             config->gateway.id, config->serial.size(), config->gpio.size(), config->mqtt.session.host,
             config->mqtt.session.port);
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

// Exit statuses (docs/man/fieldgate.1.md): 0 done, 1 an error, 2 a command line it does not understand,
// 3 `get` of a key never written, 4 a `put` that may or may not have taken effect.
constexpr int kNeverWritten = 3;
constexpr int kOutcomeUnknown = 4;

// One request to the running daemon over its control socket; the answer, or a message on stderr.
// `failure` (if given) says how it went wrong. A daemon alive answers within its replication.timeout;
// one that does not within `timeout` is paused, stuck or overloaded, and the CLI says so and gives up.
std::optional<nlohmann::json> ask_daemon(const std::string& socket, nlohmann::json request,
                                         std::chrono::milliseconds timeout,
                                         ControlClient::LastFailure* failure = nullptr) {
  auto client = ControlClient::connect(socket);
  if (!client) {
    std::fprintf(stderr, "%s\n", client.error().c_str());
    return std::nullopt;
  }
  auto answer = client->request(std::move(request), timeout);
  if (failure) {
    *failure = client->last_failure();
  }
  if (!answer && client->last_failure().kind == ControlClient::Failure::timed_out) {
    std::fprintf(stderr,
                 "fieldgate at %s did not answer within %.1f s: it may be paused or overloaded "
                 "(fieldgate status tells; raise --timeout above replication.timeout if that is longer)\n",
                 socket.c_str(), static_cast<double>(timeout.count()) / 1000);
    return std::nullopt;
  }
  if (!answer) {
    std::fprintf(stderr, "%s\n", answer.error().c_str());
    return std::nullopt;
  }
  return std::move(*answer);
}

int get(const std::string& socket, const std::string& key, std::chrono::milliseconds timeout) {
  auto answer = ask_daemon(socket, {{"op", "get"}, {"key", key}}, timeout);
  if (!answer) {
    return 1;
  }
  if ((*answer)["value"].is_null()) {
    std::fprintf(stderr, "%s: never written\n", key.c_str());
    return kNeverWritten;
  }
  fmt::print("{}\n", (*answer)["value"].get<std::string>());
  return 0;
}

int put(const std::string& socket, const std::string& key, const std::string& value,
        std::chrono::milliseconds timeout) {
  ControlClient::LastFailure failure;
  if (ask_daemon(socket, {{"op", "put"}, {"key", key}, {"value", value}}, timeout, &failure)) {
    return 0;
  }
  // Once the request was sent, only an answer that says so proves the write did not happen: a daemon
  // that crashed, hung or timed out in the store phase may have stored it on a majority already.
  using Failure = ControlClient::Failure;
  bool unknown = failure.kind == Failure::closed || failure.kind == Failure::timed_out ||
                 (failure.kind == Failure::answered &&
                  (failure.code == "outcome_unknown" || failure.code == "no_answer" ||
                   failure.code == "internal_error"));
  if (unknown) {
    std::fprintf(stderr, "the write of %s may or may not have taken effect (fieldgate get %s tells)\n",
                 key.c_str(), key.c_str());
    return kOutcomeUnknown;
  }
  return 1;
}

int status(const std::string& socket, bool as_json, bool as_prometheus, std::chrono::milliseconds timeout) {
  auto answer = ask_daemon(socket, {{"op", "status"}}, timeout);
  if (!answer) {
    return 1;
  }
  if (as_prometheus) {
    fmt::print("{}", format_prometheus((*answer)["status"]));
  } else if (as_json) {
    fmt::print("{}\n", (*answer)["status"].dump(2));
  } else {
    fmt::print("{}", format_status((*answer)["status"]));
  }
  return 0;
}

// The daemon reads its config file again. Applied: the summary on stdout (and what failed of it on
// stderr, exit 1). Refused: every error on stderr, as `fieldgate check` prints them, and exit 1.
int reload(const std::string& socket) {
  // A reload reopens devices and reconnects; it is not bounded by the register's timeout.
  auto answer = ask_daemon(socket, {{"op", "reload"}}, std::chrono::seconds(70));
  if (!answer) {
    return 1;
  }
  fmt::print("reloaded: {}\n", answer->value("summary", ""));
  const auto errors = answer->value("errors", std::vector<std::string>{});
  for (const auto& error : errors) {
    std::fprintf(stderr, "%s\n", error.c_str());
  }
  return errors.empty() ? 0 : 1;
}

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App app{
      "fieldgate: a small native gateway from serial and GPIO devices to MQTT, for Raspberry Pi-class "
      "boards"};
  app.require_subcommand(1);
  int status = 0;

  auto* version = app.add_subcommand("version", "Print the version and the libraries it runs on");
  // GPIO's backend is chosen when the program is built (devices/CMakeLists.txt): say which this one has,
  // so that a user (and tests/install/check-package.sh) can tell whether the character device works.
  version->callback([] {
    const std::string_view gpiod = devices::gpio::gpiod_version();
    fmt::print("fieldgate {} ({}) libuv {} {}\n", kVersion, kTargetProcessor, uv_version_string(),
               gpiod.empty() ? "GPIO: sysfs only (no libgpiod)" : fmt::format("libgpiod {}", gpiod));
  });

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

  std::string socket = "/run/fieldgate/control.sock";
  std::string reg_key;
  std::string reg_value;
  bool as_json = false;
  bool as_prometheus = false;
  double timeout_s = 5;
  auto add_socket = [&](CLI::App* cmd) {
    cmd->add_option("-s,--socket", socket, "The daemon's control socket ([control] socket)")
        ->capture_default_str();
  };
  // get, put and status: a daemon that runs answers within its replication.timeout (issue 10).
  auto add_timeout = [&](CLI::App* cmd) {
    cmd->add_option("--timeout", timeout_s, "Seconds to wait for the answer (above replication.timeout)")
        ->capture_default_str()
        ->check(CLI::Range(0.1, 3600.0));
  };
  auto timeout = [&] { return std::chrono::milliseconds(static_cast<std::int64_t>(timeout_s * 1000)); };
  auto* get_cmd = app.add_subcommand(
      "get",
      "Read KEY from the site's replicated register through the running daemon (exit 3: never written)");
  get_cmd->add_option("key", reg_key, "The key, e.g. gw-a/boiler/t")->required();
  add_socket(get_cmd);
  add_timeout(get_cmd);
  get_cmd->callback([&] { status = get(socket, reg_key, timeout()); });
  auto* put_cmd = app.add_subcommand(
      "put",
      "Write VALUE under KEY in the site's replicated register (exit 4: may or may not have taken effect)");
  put_cmd->add_option("key", reg_key, "The key")->required();
  put_cmd->add_option("value", reg_value, "The value (text, at most 1024 bytes)")->required();
  add_socket(put_cmd);
  add_timeout(put_cmd);
  put_cmd->callback([&] { status = put(socket, reg_key, reg_value, timeout()); });
  auto* status_cmd =
      app.add_subcommand("status", "Show the running daemon's devices, broker and replication peers");
  auto* json_flag = status_cmd->add_flag("--json", as_json, "Print the status as JSON");
  status_cmd
      ->add_flag("--prometheus", as_prometheus,
                 "Print the status in Prometheus' text format (for node_exporter's textfile collector)")
      ->excludes(json_flag);
  add_socket(status_cmd);
  add_timeout(status_cmd);
  status_cmd->callback([&] { status = fg::gateway::status(socket, as_json, as_prometheus, timeout()); });
  auto* reload_cmd = app.add_subcommand(
      "reload",
      "Make the running daemon read its configuration file again and apply what changed; a file with "
      "errors changes nothing (the errors are printed, exit 1)");
  add_socket(reload_cmd);
  reload_cmd->callback([&] { status = fg::gateway::reload(socket); });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  return status;
}

}  // namespace fg::gateway
