// The config loader: a full file maps onto the right values, an empty file gives the defaults, and every
// kind of mistake is reported with its exact message, line, column and key.

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "gateway/config/config.hpp"
#include "gateway/config/duration.hpp"
#include "tests/gateway/config_test_support.hpp"
#include "tests/support/temp_dir.hpp"

namespace fg::gateway {
namespace {

namespace ds = devices::serial;
using namespace std::chrono_literals;

using test_support::issue;
using test_support::issues;
using test_support::join;
using test_support::parse;

// A minimal [[serial]] entry followed by extra lines; its keys start on line 2.
std::string serial(std::string_view extra) {
  return "[[serial]]\nname = \"s\"\npath = \"/dev/ttyUSB0\"\n" + std::string(extra);
}

// ---------------------------------------------------------------------------------------------------------
// Valid files.

constexpr std::string_view kFull = R"toml(
[gateway]
id = "shed-pi"
log_level = "debug"

[mqtt]
host = "broker.lan"
port = 8883
client_id = "shed"
keepalive = "1min"
username = "fieldgate"
password_file = "/etc/fieldgate/password"
protocol = "5"
prefix = "site/a"
qos = 2
retain = true
outbox = 500
reconnect_min = "250ms"
reconnect_max = "1h"

[mqtt.tls]
ca_file = "/etc/ssl/ca.pem"
cert_file = "/etc/fieldgate/cert.pem"
key_file = "/etc/fieldgate/key.pem"
insecure = true

[[serial]]
name = "weather"
path = "/dev/serial/by-id/usb-FTDI-if00"
baud = 115200
data_bits = 7
parity = "even"
stop_bits = 2
flow_control = "rtscts"
framing = "line"
delimiter = "\r\n"
max_line = 512
skip_empty = false
parser = "kv"
pair_separator = ","
key_value_separator = ":"
payload = "raw"
write_terminator = "\r"
write_queue = 4096
reopen_interval = "5s"
unlisted = "drop"

[serial.request]
reply_pattern = '^(OK|ERR)'
timeout = "750ms"

[serial.channels.t]
kind = "number"
unit = "°C"
scale = 0.1
offset = -40
change_only = true
deadband = 0.25
min_interval = "10s"
set_format = "T{value}"

[serial.channels.door]
kind = "boolean"
set_format = ""

[[serial]]
name = "meter"
path = "/dev/ttyAMA0"
framing = "fixed"
record_size = 16
parser = "regex"
pattern = '^(?P<kwh>\d+\.\d+)$'

[serial.channels.kwh]
kind = "text"

[[serial]]
name = "node"
path = "/dev/ttyACM0"
framing = "cobs"
max_payload = 64
parser = "json"
max_depth = 2

[[serial]]
name = "raw"
path = "/dev/ttyS0"
parser = "raw"
raw_channel = "line"
)toml";

TEST(ConfigParse, FullConfigMapsOntoEveryValue) {
  const Config config = parse(kFull);
  EXPECT_EQ(config.source, "site.toml");
  EXPECT_EQ(config.gateway.id, "shed-pi");
  EXPECT_EQ(config.gateway.log_level, LogLevel::debug);

  const mqtt::Options& session = config.mqtt.session;
  EXPECT_EQ(session.host, "broker.lan");
  EXPECT_EQ(session.port, 8883);
  EXPECT_EQ(session.client_id, "shed");
  EXPECT_EQ(session.keepalive, 60s);
  EXPECT_EQ(session.username, "fieldgate");
  EXPECT_EQ(session.password_file, "/etc/fieldgate/password");
  EXPECT_EQ(session.protocol, mqtt::Protocol::v5);
  EXPECT_EQ(config.mqtt.prefix, "site/a");
  EXPECT_EQ(config.mqtt.qos, 2);
  EXPECT_TRUE(config.mqtt.retain);
  EXPECT_EQ(session.outbox_limit, 500u);
  EXPECT_EQ(session.reconnect.initial, 250ms);
  EXPECT_EQ(session.reconnect.max, 1h);
  ASSERT_TRUE(session.tls.has_value());
  EXPECT_EQ(session.tls->ca_file, "/etc/ssl/ca.pem");
  EXPECT_EQ(session.tls->cert_file, "/etc/fieldgate/cert.pem");
  EXPECT_EQ(session.tls->key_file, "/etc/fieldgate/key.pem");
  EXPECT_TRUE(session.tls->insecure);

  ASSERT_EQ(config.serial.size(), 4u);
  const SerialSection& weather_section = config.serial[0];
  const ds::SerialDeviceSettings& weather = weather_section.device;
  EXPECT_EQ(weather.name, "weather");
  EXPECT_EQ(weather.port.path, "/dev/serial/by-id/usb-FTDI-if00");
  EXPECT_EQ(weather.port.baud, 115200u);
  EXPECT_EQ(weather.port.data_bits, 7);
  EXPECT_EQ(weather.port.parity, ds::Parity::even);
  EXPECT_EQ(weather.port.stop_bits, 2);
  EXPECT_EQ(weather.port.flow_control, ds::FlowControl::rtscts);
  EXPECT_EQ(weather.port.write_queue_limit, 4096u);
  EXPECT_EQ(weather.port.reopen_interval, 5s);
  const auto* line = std::get_if<ds::LineFramerConfig>(&weather.framer);
  ASSERT_NE(line, nullptr);
  EXPECT_EQ(line->delimiter, "\r\n");
  EXPECT_EQ(line->max_length, 512u);
  EXPECT_FALSE(line->skip_empty);
  const auto* kv = std::get_if<ds::KvParserConfig>(&weather.parser);
  ASSERT_NE(kv, nullptr);
  EXPECT_EQ(kv->pair_separator, ",");
  EXPECT_EQ(kv->key_value_separator, ":");
  EXPECT_EQ(weather_section.payload, PayloadForm::raw);
  EXPECT_EQ(weather.write_terminator, "\r");
  EXPECT_EQ(weather.unlisted, ds::UnlistedPolicy::drop);
  ASSERT_TRUE(weather.request.has_value());
  EXPECT_EQ(weather.request->reply_pattern, "^(OK|ERR)");
  EXPECT_EQ(weather.request->timeout, 750ms);

  // Channels come in order of name.
  ASSERT_EQ(weather.channels.size(), 2u);
  const ds::ChannelSettings& door = weather.channels[0];
  EXPECT_EQ(door.spec.name, "door");
  EXPECT_EQ(door.spec.kind, ds::ValueKind::boolean);
  EXPECT_EQ(door.set_format, "");
  const ds::ChannelSettings& t = weather.channels[1];
  EXPECT_EQ(t.spec.name, "t");
  EXPECT_EQ(t.spec.kind, ds::ValueKind::number);
  EXPECT_EQ(t.spec.unit, "°C");
  EXPECT_DOUBLE_EQ(t.spec.scale, 0.1);
  EXPECT_DOUBLE_EQ(t.spec.offset, -40.0);
  EXPECT_TRUE(t.spec.filter.change_only);
  EXPECT_DOUBLE_EQ(t.spec.filter.deadband, 0.25);
  EXPECT_EQ(t.spec.filter.min_interval, 10s);
  EXPECT_EQ(t.set_format, "T{value}");

  const ds::SerialDeviceSettings& meter = config.serial[1].device;
  const auto* fixed = std::get_if<ds::FixedFramerConfig>(&meter.framer);
  ASSERT_NE(fixed, nullptr);
  EXPECT_EQ(fixed->record_size, 16u);
  const auto* regex = std::get_if<ds::RegexParserConfig>(&meter.parser);
  ASSERT_NE(regex, nullptr);
  EXPECT_EQ(regex->pattern, R"(^(?P<kwh>\d+\.\d+)$)");
  ASSERT_EQ(meter.channels.size(), 1u);
  EXPECT_EQ(meter.channels[0].spec.kind, ds::ValueKind::text);
  EXPECT_EQ(meter.channels[0].set_format, "{channel}={value}");
  EXPECT_FALSE(meter.request.has_value());

  const ds::SerialDeviceSettings& node = config.serial[2].device;
  const auto* cobs = std::get_if<ds::CobsFramerConfig>(&node.framer);
  ASSERT_NE(cobs, nullptr);
  EXPECT_EQ(cobs->max_payload, 64u);
  const auto* json = std::get_if<ds::JsonParserConfig>(&node.parser);
  ASSERT_NE(json, nullptr);
  EXPECT_EQ(json->max_depth, 2u);

  const auto* raw = std::get_if<ds::RawParserConfig>(&config.serial[3].device.parser);
  ASSERT_NE(raw, nullptr);
  EXPECT_EQ(raw->channel, "line");

  // What the loader accepted, devices/serial accepts too.
  for (const auto& section : config.serial) {
    const ds::SerialDeviceSettings& device = section.device;
    EXPECT_TRUE(ds::Framer::create(device.framer, [](const ds::Frame&) {})) << device.name;
    EXPECT_TRUE(ds::LineParser::create(device.parser)) << device.name;
  }
}

TEST(ConfigParse, EmptyFileGivesTheDefaults) {
  const Config config = parse("");
  EXPECT_EQ(config.gateway.id, default_gateway_id());
  EXPECT_EQ(config.gateway.log_level, LogLevel::info);
  EXPECT_EQ(config.mqtt.session.host, "localhost");
  EXPECT_EQ(config.mqtt.session.port, 1883);
  EXPECT_EQ(config.mqtt.session.client_id, "fieldgate-" + default_gateway_id());
  EXPECT_EQ(config.mqtt.session.keepalive, 30s);
  EXPECT_EQ(config.mqtt.session.username, "");
  EXPECT_EQ(config.mqtt.session.password_file, "");
  EXPECT_EQ(config.mqtt.session.protocol, mqtt::Protocol::v311);
  EXPECT_EQ(config.mqtt.prefix, "fieldgate");
  EXPECT_EQ(config.mqtt.qos, 1);
  EXPECT_FALSE(config.mqtt.retain);
  EXPECT_EQ(config.mqtt.session.outbox_limit, 10000u);
  EXPECT_EQ(config.mqtt.session.reconnect.initial, 500ms);
  EXPECT_EQ(config.mqtt.session.reconnect.max, 30s);
  EXPECT_FALSE(config.mqtt.session.tls.has_value());
  EXPECT_TRUE(config.serial.empty());
}

TEST(ConfigParse, SerialDefaults) {
  const Config config = parse(serial(""));
  ASSERT_EQ(config.serial.size(), 1u);
  const SerialSection& section = config.serial[0];
  const ds::SerialDeviceSettings& device = section.device;
  EXPECT_EQ(device.port.baud, 9600u);
  EXPECT_EQ(device.port.data_bits, 8);
  EXPECT_EQ(device.port.parity, ds::Parity::none);
  EXPECT_EQ(device.port.stop_bits, 1);
  EXPECT_EQ(device.port.flow_control, ds::FlowControl::none);
  EXPECT_EQ(device.port.write_queue_limit, 65536u);
  EXPECT_EQ(device.port.reopen_interval, 2s);
  const auto* line = std::get_if<ds::LineFramerConfig>(&device.framer);
  ASSERT_NE(line, nullptr);
  EXPECT_EQ(line->delimiter, "\n");
  EXPECT_EQ(line->max_length, 1024u);
  EXPECT_TRUE(line->skip_empty);
  const auto* kv = std::get_if<ds::KvParserConfig>(&device.parser);
  ASSERT_NE(kv, nullptr);
  EXPECT_EQ(kv->pair_separator, "");
  EXPECT_EQ(kv->key_value_separator, "=");
  EXPECT_EQ(section.payload, PayloadForm::json);
  EXPECT_EQ(device.write_terminator, "\n");
  EXPECT_EQ(device.unlisted, ds::UnlistedPolicy::publish);
  EXPECT_FALSE(device.request.has_value());
  EXPECT_TRUE(device.channels.empty());

  const Config channel = parse(serial("[serial.channels.t]\n"));
  ASSERT_EQ(channel.serial[0].device.channels.size(), 1u);
  const ds::ChannelSettings& t = channel.serial[0].device.channels[0];
  EXPECT_EQ(t.spec.name, "t");
  EXPECT_EQ(t.spec.kind, ds::ValueKind::number);
  EXPECT_EQ(t.spec.unit, "");
  EXPECT_EQ(t.spec.scale, 1.0);
  EXPECT_EQ(t.spec.offset, 0.0);
  EXPECT_FALSE(t.spec.filter.change_only);
  EXPECT_EQ(t.spec.filter.deadband, 0.0);
  EXPECT_EQ(t.spec.filter.min_interval, 0s);
  EXPECT_EQ(t.set_format, "{channel}={value}");

  const Config request = parse(serial("[serial.request]\nreply_pattern = 'OK'\n"));
  ASSERT_TRUE(request.serial[0].device.request.has_value());
  EXPECT_EQ(request.serial[0].device.request->timeout, 1s);

  const Config tls = parse("[mqtt.tls]\nca_file = \"ca.pem\"\n");
  ASSERT_TRUE(tls.mqtt.session.tls.has_value());
  EXPECT_EQ(tls.mqtt.session.tls->cert_file, "");
  EXPECT_EQ(tls.mqtt.session.tls->key_file, "");
  EXPECT_FALSE(tls.mqtt.session.tls->insecure);
}

TEST(ConfigParse, ClientIdDefaultsFromTheGatewayId) {
  EXPECT_EQ(parse("[gateway]\nid = \"barn\"\n").mqtt.session.client_id, "fieldgate-barn");
  EXPECT_EQ(parse("[gateway]\nid = \"barn\"\n[mqtt]\nclient_id = \"\"\n").mqtt.session.client_id,
            "fieldgate-barn");
}

TEST(ConfigParse, AnyPositiveBaudRateIsNotAConfigError) {
  // Whether the port can take 12345 is found out when it opens, for that port alone.
  const Config config = parse(serial("baud = 12345\n"));
  EXPECT_EQ(config.serial[0].device.port.baud, 12345u);
}

TEST(ConfigParse, InlineTablesWorkLikeHeaders) {
  const Config config = parse(R"(serial = [{ name = "a", path = "/dev/a", channels = { t = { unit = "K" } } }]
mqtt = { port = 1884, tls = { ca_file = "ca.pem" } }
)");
  ASSERT_EQ(config.serial.size(), 1u);
  EXPECT_EQ(config.serial[0].device.channels.at(0).spec.unit, "K");
  EXPECT_EQ(config.mqtt.session.port, 1884);
  EXPECT_TRUE(config.mqtt.session.tls.has_value());
}

TEST(ConfigParse, ZeroDurationsWhereAllowed) {
  const Config config = parse(serial("[serial.channels.t]\nmin_interval = \"0s\"\n"));
  EXPECT_EQ(config.serial[0].device.channels[0].spec.filter.min_interval, 0s);
}

TEST(ConfigParse, PasswordWithoutUserNameIsFineWithMqtt5) {
  const Config config = parse("[mqtt]\nprotocol = \"5\"\npassword_file = \"/p\"\n");
  EXPECT_EQ(config.mqtt.session.password_file, "/p");
}

TEST(ConfigParse, QuotedChannelNames) {
  const Config config = parse(serial("parser = \"json\"\n[serial.channels.\"bme.t\"]\nunit = \"K\"\n"));
  EXPECT_EQ(config.serial[0].device.channels.at(0).spec.name, "bme.t");
}

std::string read_source_file(const std::string& relative) {
  std::ifstream in(std::string(FG_SOURCE_DIR) + "/" + relative, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(ConfigParse, TheShippedExampleIsValid) {
  const auto config = load_config(std::string(FG_SOURCE_DIR) + "/examples/fieldgate.toml");
  ASSERT_TRUE(config.has_value()) << config.error().front().format();
  ASSERT_EQ(config->serial.size(), 1u);
  EXPECT_EQ(config->serial[0].device.name, "weather");
  EXPECT_EQ(config->mqtt.session.host, "localhost");
}

TEST(ConfigParse, TheExampleOfTheReferenceIsValid) {
  const std::string doc = read_source_file("docs/configuration.md");
  const std::size_t start = doc.find("```toml\n");
  ASSERT_NE(start, std::string::npos);
  const std::size_t end = doc.find("```", start + 8);
  ASSERT_NE(end, std::string::npos);
  const Config config = parse(std::string_view(doc).substr(start + 8, end - start - 8));
  EXPECT_EQ(config.serial.size(), 3u);
  EXPECT_TRUE(config.mqtt.session.tls.has_value());
}

// ---------------------------------------------------------------------------------------------------------
// Durations and ids.

TEST(ConfigDuration, ParsesEveryUnit) {
  EXPECT_EQ(parse_duration("250ms"), 250ms);
  EXPECT_EQ(parse_duration("2s"), 2s);
  EXPECT_EQ(parse_duration("5min"), 5min);
  EXPECT_EQ(parse_duration("1h"), 1h);
  EXPECT_EQ(parse_duration("0s"), 0ms);
  EXPECT_EQ(parse_duration("8760h"), kMaxDuration);
}

TEST(ConfigDuration, RejectsOtherForms) {
  const std::string how = ": write a whole number and a unit (ms, s, min, h), such as \"500ms\" or \"30s\"";
  for (const std::string_view text :
       {"", "s", "30", "1.5s", "30 s", " 30s", "30S", "5m", "1d", "+1s", "1h30min"}) {
    const auto parsed = parse_duration(text);
    ASSERT_FALSE(parsed.has_value()) << text;
    EXPECT_EQ(parsed.error(), "invalid duration \"" + std::string(text) + "\"" + how);
  }
  EXPECT_EQ(parse_duration("-1s").error(), "must not be negative, got \"-1s\"");
  EXPECT_EQ(parse_duration("8761h").error(), "duration \"8761h\" is too long: at most 8760h");
  EXPECT_EQ(parse_duration("99999999999999999999999ms").error(),
            "duration \"99999999999999999999999ms\" is too long: at most 8760h");
}

TEST(ConfigDuration, FormatsInTheLargestExactUnit) {
  EXPECT_EQ(format_duration(0ms), "0s");
  EXPECT_EQ(format_duration(1500ms), "1500ms");
  EXPECT_EQ(format_duration(30s), "30s");
  EXPECT_EQ(format_duration(90s), "90s");
  EXPECT_EQ(format_duration(5min), "5min");
  EXPECT_EQ(format_duration(2h), "2h");
}

TEST(ConfigGatewayId, SanitisesTheHostName) {
  EXPECT_EQ(sanitize_gateway_id("shed-pi"), "shed-pi");
  EXPECT_EQ(sanitize_gateway_id("shed-pi.local"), "shed-pi");
  EXPECT_EQ(sanitize_gateway_id("pi 4+b"), "pi-4-b");
  EXPECT_EQ(sanitize_gateway_id(""), "fieldgate");
  EXPECT_EQ(sanitize_gateway_id(".local"), "fieldgate");

  char host[HOST_NAME_MAX + 1] = {};
  ASSERT_EQ(::gethostname(host, sizeof host - 1), 0);
  EXPECT_EQ(default_gateway_id(), sanitize_gateway_id(host));
}

// ---------------------------------------------------------------------------------------------------------
// Issue formatting and files.

TEST(ConfigIssueFormat, LeavesOutWhatIsNotKnown) {
  EXPECT_EQ((ConfigIssue{"site.toml", 12, 8, "serial[1].baud", "expected an integer, got a string"}.format()),
            "site.toml:12:8: serial[1].baud: expected an integer, got a string");
  EXPECT_EQ((ConfigIssue{"site.toml", 3, 7, "", "bad"}.format()), "site.toml:3:7: bad");
  EXPECT_EQ((ConfigIssue{"site.toml", 0, 0, "", "cannot read the file: x"}.format()),
            "site.toml: cannot read the file: x");
}

TEST(ConfigLoad, ReadsAFile) {
  test::TempDir dir;
  const std::string path = (dir / "fieldgate.toml").string();
  test::write_file(path, "[mqtt]\nport = 1884\n");
  const auto config = load_config(path);
  ASSERT_TRUE(config.has_value());
  EXPECT_EQ(config->mqtt.session.port, 1884);
  EXPECT_EQ(config->source, path);
}

TEST(ConfigLoad, IssuesNameTheFileAsGiven) {
  test::TempDir dir;
  const std::string path = (dir / "site.toml").string();
  test::write_file(path, "[mqtt]\nport = 0\n");
  const auto config = load_config(path);
  ASSERT_FALSE(config.has_value());
  ASSERT_EQ(config.error().size(), 1u);
  EXPECT_EQ(config.error()[0].format(), path + ":2:8: mqtt.port: must be between 1 and 65535, got 0");
}

TEST(ConfigLoad, MissingFileIsOneIssue) {
  test::TempDir dir;
  const std::string path = (dir / "missing.toml").string();
  const auto config = load_config(path);
  ASSERT_FALSE(config.has_value());
  ASSERT_EQ(config.error().size(), 1u);
  const ConfigIssue& issue = config.error()[0];
  EXPECT_EQ(issue.file, path);
  EXPECT_EQ(issue.line, 0u);
  EXPECT_EQ(issue.column, 0u);
  EXPECT_EQ(issue.key, "");
  EXPECT_EQ(issue.format(), path + ": cannot read the file: No such file or directory");
}

TEST(ConfigLoad, DirectoryIsOneIssue) {
  test::TempDir dir;
  const auto config = load_config(dir.path().string());
  ASSERT_FALSE(config.has_value());
  ASSERT_EQ(config.error().size(), 1u);
  EXPECT_EQ(config.error()[0].format(), dir.path().string() + ": cannot read the file: Is a directory");
}

// ---------------------------------------------------------------------------------------------------------
// Errors, one class at a time. Lines and columns are 1-based; a [[serial]] from serial() has its first extra
// line at line 4.

TEST(ConfigErrors, TomlSyntaxError) {
  EXPECT_EQ(issue("[mqtt]\nport = \n"),
            "site.toml:2:8: Error while parsing key-value pair: expected value, saw '\\n'");
  EXPECT_EQ(issue("[mqtt]\nport = 1\nport = 2\n"),
            "site.toml:3:8: Error while parsing key-value pair: cannot redefine existing integer 'port'");
}

TEST(ConfigErrors, UnknownKeyInEveryTable) {
  EXPECT_EQ(issue("colour = 1\n"), "site.toml:1:1: colour: unknown key");
  EXPECT_EQ(issue("[database]\nhost = \"x\"\n"), "site.toml:1:2: database: unknown key");
  EXPECT_EQ(issue("[gateway]\ncolour = 1\n"), "site.toml:2:1: gateway.colour: unknown key");
  EXPECT_EQ(issue("[mqtt]\nhots = \"x\"\n"), "site.toml:2:1: mqtt.hots: unknown key; did you mean \"host\"?");
  EXPECT_EQ(issue("[mqtt.tls]\nca_file = \"ca\"\nverify = true\n"),
            "site.toml:3:1: mqtt.tls.verify: unknown key");
  EXPECT_EQ(issue(serial("bauds = 9600\n")),
            "site.toml:4:1: serial[0].bauds: unknown key; did you mean \"baud\"?");
  EXPECT_EQ(issue(serial("[serial.request]\nreply_pattern = 'OK'\nretries = 3\n")),
            "site.toml:6:1: serial[0].request.retries: unknown key");
  EXPECT_EQ(issue(serial("[serial.channels.t]\nunits = \"K\"\n")),
            "site.toml:5:1: serial[0].channels.t.units: unknown key; did you mean \"unit\"?");
}

TEST(ConfigErrors, WrongTypeNamesBoth) {
  EXPECT_EQ(issue("[mqtt]\nport = \"1883\"\n"),
            "site.toml:2:8: mqtt.port: expected an integer, got a string");
  EXPECT_EQ(issue("[mqtt]\nport = 1883.0\n"),
            "site.toml:2:8: mqtt.port: expected an integer, got a floating-point number");
  EXPECT_EQ(issue("[mqtt]\nhost = 10\n"), "site.toml:2:8: mqtt.host: expected a string, got an integer");
  EXPECT_EQ(issue("[mqtt]\nretain = \"yes\"\n"),
            "site.toml:2:10: mqtt.retain: expected a boolean, got a string");
  EXPECT_EQ(issue("[mqtt]\ntls = true\n"), "site.toml:2:7: mqtt.tls: expected a table, got a boolean");
  EXPECT_EQ(issue("gateway = \"x\"\n"), "site.toml:1:11: gateway: expected a table, got a string");
  EXPECT_EQ(issue("[serial]\nname = \"s\"\n"),
            "site.toml:1:1: serial: expected an array of tables ([[serial]]), got a table");
  EXPECT_EQ(issue("serial = [1]\n"), "site.toml:1:11: serial[0]: expected a table, got an integer");
  EXPECT_EQ(issue(serial("baud = \"fast\"\n")),
            "site.toml:4:8: serial[0].baud: expected an integer, got a string");
  EXPECT_EQ(issue(serial("channels = 1\n")),
            "site.toml:4:12: serial[0].channels: expected a table, got an integer");
  EXPECT_EQ(issue(serial("[serial.channels]\nt = 1\n")),
            "site.toml:5:5: serial[0].channels.t: expected a table, got an integer");
  EXPECT_EQ(issue(serial("[serial.channels.t]\nscale = \"2\"\n")),
            "site.toml:5:9: serial[0].channels.t.scale: expected a number, got a string");
  EXPECT_EQ(issue(serial("[serial.channels.t]\nchange_only = 1\n")),
            "site.toml:5:15: serial[0].channels.t.change_only: expected a boolean, got an integer");
  EXPECT_EQ(issue(serial("[serial.channels.t]\nunit = 1979-05-27\n")),
            "site.toml:5:8: serial[0].channels.t.unit: expected a string, got a date");
}

TEST(ConfigErrors, MissingRequiredKeyIsReportedAtItsTable) {
  EXPECT_EQ(issues("[[serial]]\n"), (std::vector<std::string>{
                                        "site.toml:1:1: serial[0].name: missing required key",
                                        "site.toml:1:1: serial[0].path: missing required key",
                                    }));
  EXPECT_EQ(issue(serial("[serial.request]\ntimeout = \"1s\"\n")),
            "site.toml:4:1: serial[0].request.reply_pattern: missing required key");
  EXPECT_EQ(issue(serial("parser = \"regex\"\n")),
            "site.toml:1:1: serial[0].pattern: required when parser = \"regex\"");
  EXPECT_EQ(issue(serial("framing = \"fixed\"\n")),
            "site.toml:1:1: serial[0].record_size: required when framing = \"fixed\"");
}

TEST(ConfigErrors, TlsSettings) {
  EXPECT_EQ(issue("[mqtt.tls]\ninsecure = true\n"),
            "site.toml:1:1: mqtt.tls.ca_file: required when [mqtt.tls] is present");
  EXPECT_EQ(issue("[mqtt.tls]\nca_file = \"\"\n"), "site.toml:2:11: mqtt.tls.ca_file: must not be empty");
  EXPECT_EQ(issue("[mqtt.tls]\nca_file = \"ca\"\ncert_file = \"c\"\n"),
            "site.toml:1:1: mqtt.tls.key_file: required when cert_file is set");
  EXPECT_EQ(issue("[mqtt.tls]\nca_file = \"ca\"\nkey_file = \"k\"\n"),
            "site.toml:1:1: mqtt.tls.cert_file: required when key_file is set");
  EXPECT_EQ(issue("[mqtt.tls]\nca_file = \"ca\"\ncert_file = \"c\"\nkey_file = \"\"\n"),
            "site.toml:4:12: mqtt.tls.key_file: must not be empty when cert_file is set");
}

TEST(ConfigErrors, OutOfRange) {
  EXPECT_EQ(issue("[mqtt]\nport = 0\n"), "site.toml:2:8: mqtt.port: must be between 1 and 65535, got 0");
  EXPECT_EQ(issue("[mqtt]\nport = 65536\n"),
            "site.toml:2:8: mqtt.port: must be between 1 and 65535, got 65536");
  EXPECT_EQ(issue("[mqtt]\nqos = 3\n"), "site.toml:2:7: mqtt.qos: must be between 0 and 2, got 3");
  EXPECT_EQ(issue("[mqtt]\noutbox = -1\n"), "site.toml:2:10: mqtt.outbox: must be at least 0, got -1");
  EXPECT_EQ(issue("[mqtt]\nhost = \"\"\n"), "site.toml:2:8: mqtt.host: must not be empty");
  EXPECT_EQ(issue(serial("baud = 0\n")),
            "site.toml:4:8: serial[0].baud: must be between 1 and 4294967295, got 0");
  EXPECT_EQ(issue(serial("data_bits = 9\n")),
            "site.toml:4:13: serial[0].data_bits: must be between 5 and 8, got 9");
  EXPECT_EQ(issue(serial("stop_bits = 3\n")),
            "site.toml:4:13: serial[0].stop_bits: must be between 1 and 2, got 3");
  EXPECT_EQ(issue(serial("write_queue = 0\n")),
            "site.toml:4:15: serial[0].write_queue: must be at least 1, got 0");
  EXPECT_EQ(issue(serial("max_line = 0\n")),
            "site.toml:4:12: serial[0].max_line: must be between 1 and 65536, got 0");
  EXPECT_EQ(issue(serial("framing = \"fixed\"\nrecord_size = 65537\n")),
            "site.toml:5:15: serial[0].record_size: must be between 1 and 65536, got 65537");
  EXPECT_EQ(issue(serial("framing = \"cobs\"\nmax_payload = -1\n")),
            "site.toml:5:15: serial[0].max_payload: must be between 0 and 65536, got -1");
  EXPECT_EQ(issue(serial("parser = \"json\"\nmax_depth = 17\n")),
            "site.toml:5:13: serial[0].max_depth: must be between 0 and 16, got 17");
  EXPECT_EQ(issue("[[serial]]\nname = \"s\"\npath = \"\"\n"),
            "site.toml:3:8: serial[0].path: must not be empty");
  EXPECT_EQ(issue(serial("[serial.channels.t]\nchange_only = true\ndeadband = -0.5\n")),
            "site.toml:6:12: serial[0].channels.t.deadband: must not be negative, got -0.5");
  EXPECT_EQ(issue(serial("[serial.channels.t]\nscale = inf\n")),
            "site.toml:5:9: serial[0].channels.t.scale: must be a finite number, got inf");
  EXPECT_EQ(issue(serial("[serial.channels.t]\noffset = nan\n")),
            "site.toml:5:10: serial[0].channels.t.offset: must be a finite number, got nan");
}

TEST(ConfigErrors, DurationRanges) {
  EXPECT_EQ(issue("[mqtt]\nkeepalive = \"2s\"\n"),
            "site.toml:2:13: mqtt.keepalive: must be between 5s and 1h, got \"2s\"");
  EXPECT_EQ(issue("[mqtt]\nkeepalive = \"2h\"\n"),
            "site.toml:2:13: mqtt.keepalive: must be between 5s and 1h, got \"2h\"");
  EXPECT_EQ(issue("[mqtt]\nkeepalive = \"5500ms\"\n"),
            "site.toml:2:13: mqtt.keepalive: must be a whole number of seconds, got 5500ms");
  EXPECT_EQ(issue("[mqtt]\nreconnect_min = \"0s\"\n"),
            "site.toml:2:17: mqtt.reconnect_min: must be more than 0s, got \"0s\"");
  EXPECT_EQ(
      issue("[mqtt]\nreconnect_min = \"1min\"\n"),
      "site.toml:2:17: mqtt.reconnect_min: reconnect_min (1min) must not be more than reconnect_max (30s)");
  EXPECT_EQ(issue("[mqtt]\nreconnect_max = \"100ms\"\n"),
            "site.toml:2:17: mqtt.reconnect_max: reconnect_min (500ms) must not be more than reconnect_max "
            "(100ms)");
  EXPECT_EQ(issue(serial("reopen_interval = \"0ms\"\n")),
            "site.toml:4:19: serial[0].reopen_interval: must be more than 0s, got \"0ms\"");
  EXPECT_EQ(issue(serial("[serial.request]\nreply_pattern = 'OK'\ntimeout = \"0s\"\n")),
            "site.toml:6:11: serial[0].request.timeout: must be more than 0s, got \"0s\"");
}

TEST(ConfigErrors, BadDurationForms) {
  EXPECT_EQ(issue("[mqtt]\nkeepalive = 30\n"),
            "site.toml:2:13: mqtt.keepalive: expected a duration string with a unit, such as \"30s\" (units: "
            "ms, s, "
            "min, h), got an integer");
  EXPECT_EQ(
      issue(serial("reopen_interval = 2\n")),
      "site.toml:4:19: serial[0].reopen_interval: expected a duration string with a unit, such as \"2s\" "
      "(units: ms, s, min, h), got an integer");
  EXPECT_EQ(
      issue(serial("reopen_interval = 1.5\n")),
      "site.toml:4:19: serial[0].reopen_interval: expected a duration string with a unit, such as \"30s\" "
      "(units: ms, s, min, h), got a floating-point number");
  EXPECT_EQ(issue("[mqtt]\nreconnect_max = \"10 s\"\n"),
            "site.toml:2:17: mqtt.reconnect_max: invalid duration \"10 s\": write a whole number and a unit "
            "(ms, s, "
            "min, h), such as \"500ms\" or \"30s\"");
  EXPECT_EQ(issue("[mqtt]\nreconnect_max = \"1.5s\"\n"),
            "site.toml:2:17: mqtt.reconnect_max: invalid duration \"1.5s\": write a whole number and a unit "
            "(ms, s, "
            "min, h), such as \"500ms\" or \"30s\"");
  EXPECT_EQ(
      issue("[mqtt]\nreconnect_max = \"30\"\n"),
      "site.toml:2:17: mqtt.reconnect_max: invalid duration \"30\": write a whole number and a unit (ms, s, "
      "min, h), such as \"500ms\" or \"30s\"");
  EXPECT_EQ(
      issue(serial("[serial.channels.t]\nmin_interval = \"9000h\"\n")),
      "site.toml:5:16: serial[0].channels.t.min_interval: duration \"9000h\" is too long: at most 8760h");
}

TEST(ConfigErrors, NegativeDuration) {
  EXPECT_EQ(issue("[mqtt]\nreconnect_min = \"-1s\"\n"),
            "site.toml:2:17: mqtt.reconnect_min: must not be negative, got \"-1s\"");
  EXPECT_EQ(issue(serial("[serial.channels.t]\nmin_interval = \"-5min\"\n")),
            "site.toml:5:16: serial[0].channels.t.min_interval: must not be negative, got \"-5min\"");
}

TEST(ConfigErrors, BadEnumValueListsTheChoices) {
  EXPECT_EQ(
      issue("[gateway]\nlog_level = \"loud\"\n"),
      "site.toml:2:13: gateway.log_level: expected one of \"error\", \"warning\", \"notice\", \"info\", "
      "\"debug\", got \"loud\"");
  EXPECT_EQ(issue("[mqtt]\nprotocol = \"3.1\"\n"),
            "site.toml:2:12: mqtt.protocol: expected one of \"3.1.1\", \"5\", got \"3.1\"");
  EXPECT_EQ(issue(serial("parity = \"mark\"\n")),
            "site.toml:4:10: serial[0].parity: expected one of \"none\", \"even\", \"odd\", got \"mark\"");
  EXPECT_EQ(issue(serial("flow_control = \"dtrdsr\"\n")),
            "site.toml:4:16: serial[0].flow_control: expected one of \"none\", \"rtscts\", \"xonxoff\", got "
            "\"dtrdsr\"");
  EXPECT_EQ(issue(serial("framing = \"slip\"\n")),
            "site.toml:4:11: serial[0].framing: expected one of \"line\", \"fixed\", \"cobs\", got \"slip\"");
  EXPECT_EQ(
      issue(serial("parser = \"csv\"\n")),
      "site.toml:4:10: serial[0].parser: expected one of \"raw\", \"kv\", \"json\", \"regex\", got \"csv\"");
  EXPECT_EQ(issue(serial("payload = \"xml\"\n")),
            "site.toml:4:11: serial[0].payload: expected one of \"json\", \"raw\", got \"xml\"");
  EXPECT_EQ(issue(serial("unlisted = \"keep\"\n")),
            "site.toml:4:12: serial[0].unlisted: expected one of \"publish\", \"drop\", got \"keep\"");
  EXPECT_EQ(issue(serial("[serial.channels.t]\nkind = \"int\"\n")),
            "site.toml:5:8: serial[0].channels.t.kind: expected one of \"number\", \"boolean\", \"text\", "
            "got \"int\"");
}

TEST(ConfigErrors, NamesAndTopicLevels) {
  EXPECT_EQ(issue("[gateway]\nid = \"shed/pi\"\n"),
            "site.toml:2:6: gateway.id: must match [A-Za-z0-9_-]+ (one MQTT topic level), got \"shed/pi\"");
  EXPECT_EQ(issue("[gateway]\nid = \"\"\n"),
            "site.toml:2:6: gateway.id: must match [A-Za-z0-9_-]+ (one MQTT topic level), got \"\"");
  EXPECT_EQ(issue("[[serial]]\nname = \"weather station\"\npath = \"/dev/x\"\n"),
            "site.toml:2:8: serial[0].name: must match [A-Za-z0-9_-]+ (one MQTT topic level), got \"weather "
            "station\"");
  EXPECT_EQ(issue("[mqtt]\nprefix = \"site/#\"\n"),
            "site.toml:2:10: mqtt.prefix: must not contain the wildcards + or #, got \"site/#\"");
  EXPECT_EQ(issue("[mqtt]\nprefix = \"site/\"\n"),
            "site.toml:2:10: mqtt.prefix: must not start or end with /, got \"site/\"");
  EXPECT_EQ(issue("[mqtt]\nprefix = \"\"\n"), "site.toml:2:10: mqtt.prefix: must not be empty");
  EXPECT_EQ(issue(serial("parser = \"json\"\n[serial.channels.\"a/b\"]\n")),
            "site.toml:5:1: serial[0].channels.\"a/b\": a channel name is one MQTT topic level: it must not "
            "contain /, + or #");
  EXPECT_EQ(issue(serial("[serial.channels.\"\"]\n")),
            "site.toml:4:1: serial[0].channels.\"\": a channel name must not be empty");
  EXPECT_EQ(
      issue(serial("parser = \"json\"\n[serial.channels.status]\n")),
      "site.toml:5:1: serial[0].channels.status: the channel name \"status\" is taken by the topic layout "
      "(status, write, request and reply are not channels)");
}

TEST(ConfigErrors, DuplicateDeviceNameAtTheSecondName) {
  EXPECT_EQ(issue("[[serial]]\nname = \"w\"\npath = \"/dev/a\"\n"
                  "[[serial]]\nname = \"x\"\npath = \"/dev/b\"\n"
                  "[[serial]]\nname = \"w\"\npath = \"/dev/c\"\n"),
            "site.toml:8:8: serial[2].name: duplicate device name \"w\", already used by serial[0]");
}

TEST(ConfigErrors, DuplicateDevicePathAtTheSecondPath) {
  EXPECT_EQ(
      issue("[[serial]]\nname = \"w\"\npath = \"/dev/ttyUSB0\"\n"
            "[[serial]]\nname = \"x\"\npath = \"/dev/ttyUSB1\"\n"
            "[[serial]]\nname = \"y\"\npath = \"/dev/./ttyUSB0\"\n"),
      "site.toml:9:8: serial[2].path: duplicate device path \"/dev/./ttyUSB0\", already used by serial[0]");
}

TEST(ConfigErrors, BadRegex) {
  EXPECT_EQ(issue(serial("parser = \"regex\"\npattern = '(?P<t>\\d+'\n")),
            "site.toml:5:11: serial[0].pattern: invalid regular expression: missing ): (?P<t>\\d+");
  EXPECT_EQ(
      issue(serial("parser = \"regex\"\npattern = 't=(\\d+)'\n")),
      "site.toml:5:11: serial[0].pattern: regex has no named group (?P<name>...) to take a channel from");
  EXPECT_EQ(issue(serial("[serial.request]\nreply_pattern = '(OK'\n")),
            "site.toml:5:17: serial[0].request.reply_pattern: invalid regular expression: missing ): (OK");
  EXPECT_EQ(
      issue(serial("[serial.request]\nreply_pattern = 'a{2,1}'\n")),
      "site.toml:5:17: serial[0].request.reply_pattern: invalid regular expression: invalid repetition size: "
      "{2,1}");
}

TEST(ConfigErrors, ChannelsMustBeProducedByAFixedSetParser) {
  EXPECT_EQ(
      issue(serial("parser = \"regex\"\npattern = 't=(?P<t>\\d+) h=(?P<h>\\d+)'\n[serial.channels.x]\n")),
      "site.toml:6:1: serial[0].channels.x: not a named group of pattern, whose groups are \"h\", \"t\"");
  EXPECT_EQ(issue(serial("parser = \"raw\"\n[serial.channels.t]\n")),
            "site.toml:5:1: serial[0].channels.t: the raw parser produces only the channel \"value\" "
            "(raw_channel)");
  parse(serial("parser = \"raw\"\nraw_channel = \"t\"\n[serial.channels.t]\n"));
}

TEST(ConfigErrors, FramerAndParserErrorsFromDevicesLandOnTheirKey) {
  EXPECT_EQ(issue(serial("delimiter = \"\"\n")),
            "site.toml:4:13: serial[0].delimiter: line delimiter must not be empty");
  EXPECT_EQ(issue(serial("delimiter = \"12345678901234567\"\n")),
            "site.toml:4:13: serial[0].delimiter: line delimiter must be at most 16 bytes");
  EXPECT_EQ(issue(serial("key_value_separator = \"\"\n")),
            "site.toml:4:23: serial[0].key_value_separator: key-value separator must not be empty");
  // Both separators are fine alone; the second one brings the conflict in.
  EXPECT_EQ(
      issue(serial("pair_separator = \",\"\nkey_value_separator = \",\"\n")),
      "site.toml:5:23: serial[0].key_value_separator: pair separator and key-value separator must differ");
  EXPECT_EQ(issue(serial("pair_separator = \"=\"\n")),
            "site.toml:4:18: serial[0].pair_separator: pair separator and key-value separator must differ");
  EXPECT_EQ(
      issue(serial("pair_separator = \" \"\n")),
      "site.toml:4:18: serial[0].pair_separator: a whitespace pair separator is the default: leave it empty");
  EXPECT_EQ(issue(serial("parser = \"raw\"\nraw_channel = \"\"\n")),
            "site.toml:5:15: serial[0].raw_channel: raw parser channel name must not be empty");
}

TEST(ConfigErrors, KeysOfAnotherFramingParserOrKind) {
  EXPECT_EQ(issue(serial("record_size = 16\n")),
            "site.toml:4:15: serial[0].record_size: only used with framing = \"fixed\"");
  EXPECT_EQ(issue(serial("framing = \"cobs\"\ndelimiter = \"\\n\"\n")),
            "site.toml:5:13: serial[0].delimiter: only used with framing = \"line\"");
  EXPECT_EQ(issue(serial("pattern = 'x'\n")),
            "site.toml:4:11: serial[0].pattern: only used with parser = \"regex\"");
  EXPECT_EQ(issue(serial("parser = \"json\"\npair_separator = \",\"\n")),
            "site.toml:5:18: serial[0].pair_separator: only used with parser = \"kv\"");
  EXPECT_EQ(issue(serial("[serial.channels.t]\nkind = \"text\"\nscale = 2\n")),
            "site.toml:6:9: serial[0].channels.t.scale: only used with kind = \"number\"");
  EXPECT_EQ(issue(serial("[serial.channels.t]\ndeadband = 0.5\n")),
            "site.toml:5:12: serial[0].channels.t.deadband: only used with change_only = true");
  // With the selector itself wrong, only the selector is reported.
  EXPECT_EQ(issue(serial("framing = \"slip\"\nrecord_size = 16\n")),
            "site.toml:4:11: serial[0].framing: expected one of \"line\", \"fixed\", \"cobs\", got \"slip\"");
}

TEST(ConfigErrors, SetFormatPlaceholders) {
  parse(serial("[serial.channels.t]\nset_format = \"{{{channel}}} {value}\\r\"\n"));
  parse(serial("[serial.channels.t]\nset_format = \"{channel:>4}={value:.3}\"\n"));
  EXPECT_EQ(issue(serial("[serial.channels.t]\nset_format = \"{value:d}\"\n")),
            "site.toml:5:14: serial[0].channels.t.set_format: invalid format: invalid type specifier");
  EXPECT_EQ(issue(serial("[serial.channels.t]\nset_format = \"{}\"\n")),
            "site.toml:5:14: serial[0].channels.t.set_format: unknown placeholder {}: the placeholders are "
            "{channel} and {value}, and {{ and }} are literal braces");
  EXPECT_EQ(
      issue(serial("[serial.channels.t]\nset_format = \"{val}\"\n")),
      "site.toml:5:14: serial[0].channels.t.set_format: unknown placeholder {val}: the placeholders are "
      "{channel} and {value}, and {{ and }} are literal braces");
  EXPECT_EQ(issue(serial("[serial.channels.t]\nset_format = \"T{value\"\n")),
            "site.toml:5:14: serial[0].channels.t.set_format: unclosed { at offset 1; write {{ for a literal "
            "brace");
  EXPECT_EQ(issue(serial("[serial.channels.t]\nset_format = \"T}\"\n")),
            "site.toml:5:14: serial[0].channels.t.set_format: unmatched } at offset 1; write }} for a "
            "literal brace");
}

TEST(ConfigErrors, PasswordNeedsAUserNameWithMqtt311) {
  EXPECT_EQ(issue("[mqtt]\npassword_file = \"/etc/fieldgate/password\"\n"),
            "site.toml:2:17: mqtt.password_file: needs a username with protocol \"3.1.1\"");
}

TEST(ConfigErrors, AllIssuesAreReportedInFileOrder) {
  // toml++ keeps a table's keys sorted by name, not in file order; the issues are sorted back.
  const auto all = issues(R"toml([mqtt]
qos = 5
port = "x"
zzz = 1

[gateway]
log_level = "verbose"

[[serial]]
name = "a"
path = "/dev/a"
baud = -1
delimiter = ""

[[serial]]
name = "a"
[serial.channels.t]
kind = "float"
)toml");
  EXPECT_EQ(
      all,
      (std::vector<std::string>{
          "site.toml:2:7: mqtt.qos: must be between 0 and 2, got 5",
          "site.toml:3:8: mqtt.port: expected an integer, got a string",
          "site.toml:4:1: mqtt.zzz: unknown key",
          "site.toml:7:13: gateway.log_level: expected one of \"error\", \"warning\", \"notice\", \"info\", "
          "\"debug\", got \"verbose\"",
          "site.toml:12:8: serial[0].baud: must be between 1 and 4294967295, got -1",
          "site.toml:13:13: serial[0].delimiter: line delimiter must not be empty",
          "site.toml:15:1: serial[1].path: missing required key",
          "site.toml:16:8: serial[1].name: duplicate device name \"a\", already used by serial[0]",
          "site.toml:18:8: serial[1].channels.t.kind: expected one of \"number\", \"boolean\", \"text\", "
          "got \"float\"",
      }));
}

// Issue 12: the disk spool's keys and the gateway's state directory.
TEST(ConfigSpool, DefaultsAndEveryKey) {
  const Config defaults = parse("");
  EXPECT_EQ(defaults.gateway.state_dir, "/var/lib/fieldgate");
  const auto& d = defaults.mqtt.session.spool;
  EXPECT_TRUE(d.enabled);
  EXPECT_EQ(d.sync, 1s);
  EXPECT_EQ(d.mode, mqtt::SpoolMode::always);
  EXPECT_EQ(d.max_bytes, 64ull << 20);

  const Config config = parse(
      "[gateway]\nstate_dir = \"/srv/fg\"\n[mqtt]\nspool = false\nspool_sync = \"0s\"\nspool_mode = "
      "\"outage\"\n"
      "spool_max = \"512MiB\"\n");
  EXPECT_EQ(config.gateway.state_dir, "/srv/fg");
  const auto& s = config.mqtt.session.spool;
  EXPECT_FALSE(s.enabled);
  EXPECT_EQ(s.sync, 0ms);
  EXPECT_EQ(s.mode, mqtt::SpoolMode::outage);
  EXPECT_EQ(s.max_bytes, 512ull << 20);
  EXPECT_EQ(parse("[mqtt]\nspool_max = \"3145728\"\n").mqtt.session.spool.max_bytes, 3ull << 20);
  EXPECT_EQ(parse("[mqtt]\nspool_max = \"1GiB\"\n").mqtt.session.spool.max_bytes, 1ull << 30);
}

TEST(ConfigSpool, ErrorsNameTheKeyAndWhere) {
  EXPECT_EQ(issue("[mqtt]\nspool_max = \"64MB\"\n"),
            "site.toml:2:13: mqtt.spool_max: expected a size such as \"64MiB\", \"512KiB\" or \"1GiB\", got "
            "\"64MB\"");
  EXPECT_EQ(issue("[mqtt]\nspool_max = \"1MiB\"\n"),
            "site.toml:2:13: mqtt.spool_max: must be at least \"2MiB\", got \"1MiB\"");
  EXPECT_EQ(issue("[mqtt]\nspool_mode = \"never\"\n"),
            "site.toml:2:14: mqtt.spool_mode: expected one of \"always\", \"outage\", got \"never\"");
  EXPECT_EQ(issue("[mqtt]\nspool = \"yes\"\n"),
            "site.toml:2:9: mqtt.spool: expected a boolean, got a string");
  EXPECT_EQ(issue("[gateway]\nstate_dir = \"var/lib\"\n"),
            "site.toml:2:13: gateway.state_dir: must be an absolute path, got \"var/lib\"");
}

TEST(ConfigCleanSession, DefaultsToTrueAndFalseNeedsProtocol311) {
  EXPECT_TRUE(parse("").mqtt.session.clean_session);
  EXPECT_FALSE(parse("[mqtt]\nclean_session = false\n").mqtt.session.clean_session);
  EXPECT_TRUE(parse("[mqtt]\nprotocol = \"5\"\nclean_session = true\n").mqtt.session.clean_session);
  EXPECT_EQ(issue("[mqtt]\nprotocol = \"5\"\nclean_session = false\n"),
            "site.toml:3:17: mqtt.clean_session: false needs protocol \"3.1.1\" (with MQTT 5 no session "
            "expiry is sent, so the broker would not keep the session)");
}

}  // namespace
}  // namespace fg::gateway

namespace fg::gateway {
namespace {

TEST(ConfigHomeAssistant, DefaultsAndSettings) {
  Config defaults = parse("");
  EXPECT_TRUE(defaults.homeassistant.enabled);
  EXPECT_EQ(defaults.homeassistant.prefix, "homeassistant");
  EXPECT_EQ(defaults.mqtt.metrics_interval, std::chrono::seconds(60));
  Config c =
      parse("[homeassistant]\nenabled = false\nprefix = \"ha/site\"\n[mqtt]\nmetrics_interval = \"0s\"\n");
  EXPECT_FALSE(c.homeassistant.enabled);
  EXPECT_EQ(c.homeassistant.prefix, "ha/site");
  EXPECT_EQ(c.mqtt.metrics_interval.count(), 0);
}

TEST(ConfigHomeAssistant, BadValuesNameTheirPlace) {
  EXPECT_EQ(issue("[homeassistant]\nprefix = \"ha/#\"\n"),
            "site.toml:2:10: homeassistant.prefix: must not contain the wildcards + or #, got \"ha/#\"");
  EXPECT_EQ(issue("[homeassistant]\nenable = true\n"),
            "site.toml:2:1: homeassistant.enable: unknown key; did you mean \"enabled\"?");
  EXPECT_EQ(issue("[mqtt]\nmetrics_interval = \"500ms\"\n"),
            "site.toml:2:20: mqtt.metrics_interval: must be 0s (off) or at least 1s, got 500ms");
}

TEST(ConfigHomeAssistant, ChannelOverridesAndControls) {
  Config c = parse(
      "[[serial]]\nname = \"bench\"\npath = \"/dev/ttyUSB0\"\n"
      "[serial.channels.t]\nunit = \"°C\"\n"
      "[serial.channels.t.homeassistant]\nname = \"Bench temperature\"\ndevice_class = \"temperature\"\n"
      "icon = \"mdi:thermometer\"\nenabled_by_default = false\n"
      "[serial.channels.relay]\nkind = \"boolean\"\nset_format = \"R{value}\"\n"
      "[serial.channels.plain]\n");
  const auto& ha = c.serial.at(0).homeassistant;
  ASSERT_TRUE(ha.contains("t"));
  EXPECT_EQ(ha.at("t").name, "Bench temperature");
  EXPECT_EQ(ha.at("t").device_class, "temperature");
  EXPECT_EQ(ha.at("t").icon, "mdi:thermometer");
  EXPECT_EQ(ha.at("t").enabled_by_default, false);
  EXPECT_FALSE(ha.at("t").control) << "the default set_format makes no control";
  ASSERT_TRUE(ha.contains("relay"));
  EXPECT_TRUE(ha.at("relay").control);
  EXPECT_FALSE(ha.contains("plain"));
}

TEST(ConfigHomeAssistant, DeviceClassIsCheckedForThePlatformTheChannelBecomes) {
  const std::string head = "[[serial]]\nname = \"b\"\npath = \"/dev/ttyUSB0\"\n";
  EXPECT_EQ(issue(head + "[serial.channels.t.homeassistant]\ndevice_class = \"temprature\"\n"),
            "site.toml:5:16: serial[0].channels.t.homeassistant.device_class: Home Assistant has no sensor "
            "device class \"temprature\" (\"\" for none)");
  EXPECT_EQ(issue(head + "[serial.channels.d]\nkind = \"boolean\"\n[serial.channels.d.homeassistant]\n"
                         "device_class = \"temperature\"\n"),
            "site.toml:7:16: serial[0].channels.d.homeassistant.device_class: Home Assistant has no "
            "binary_sensor device class \"temperature\" (\"\" for none)");
  EXPECT_EQ(
      issue(head + "[serial.channels.t.homeassistant]\nicon = \"thermometer\"\n"),
      "site.toml:5:8: serial[0].channels.t.homeassistant.icon: must be an icon name with its set, such as "
      "\"mdi:thermometer\", got \"thermometer\"");
  EXPECT_EQ(issue(head + "[serial.channels.t.homeassistant]\ncolour = \"red\"\n"),
            "site.toml:5:1: serial[0].channels.t.homeassistant.colour: unknown key");
}

}  // namespace
}  // namespace fg::gateway
