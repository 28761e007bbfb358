// TLS: a CA and certificates made with the openssl program for each run, a broker with a TLS listener.
// The broker's certificate names "localhost" only (no IP address), which lets the tests show the
// host name check at work.

#include <cstdlib>
#include <memory>

#include "tests/mqtt/mqtt_test_support.hpp"
#include "tests/support/temp_dir.hpp"

namespace fg::mqtt::test {
namespace {

class MqttTls : public MqttTest {
 protected:
  static void SetUpTestSuite() {
    if (std::system("openssl version >/dev/null 2>&1") != 0) {
      return;  // SetUp() skips
    }
    pki = std::make_unique<fg::test::TempDir>();
    const auto d = pki->path().string();
    const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    fg::test::write_file(pki->path() / "server.ext", "subjectAltName=DNS:localhost\n");
    fg::test::write_file(pki->path() / "client.ext", "extendedKeyUsage=clientAuth\n");
    const std::string script =
        "cd '" + d +
        "' && "
        "openssl req -x509" +
        ec +
        " -keyout ca.key -out ca.crt -days 2 -subj /CN=fieldgate-test-ca && "
        "openssl req -x509" +
        ec +
        " -keyout other-ca.key -out other-ca.crt -days 2 -subj /CN=other-ca && "
        "openssl req" +
        ec +
        " -keyout server.key -out server.csr -subj /CN=localhost && "
        "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt "
        "-days 2 -extfile server.ext && "
        "openssl req" +
        ec +
        " -keyout client.key -out client.csr -subj /CN=gateway && "
        "openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out client.crt "
        "-days 2 -extfile client.ext";
    if (std::system(("(" + script + ") >'" + d + "/openssl.log' 2>&1").c_str()) != 0) {
      pki.reset();
    }
  }
  static void TearDownTestSuite() { pki.reset(); }

  void SetUp() override {
    if (!pki) {
      GTEST_SKIP() << "the openssl program is missing or failed to make certificates";
    }
  }

  static std::string file(const char* name) { return (pki->path() / name).string(); }

  bool start_broker(bool require_client_certificate = false) {
    std::vector<std::string> config = {"cafile " + file("ca.crt"), "certfile " + file("server.crt"),
                                       "keyfile " + file("server.key")};
    if (require_client_certificate) {
      config.push_back("require_certificate true");
    }
    broker.set_extra_config(config);
    return broker.start();
  }

  Options tls_options(const std::string& host, const std::string& client_id, const char* ca = "ca.crt") {
    auto options = local_options(broker.port(), client_id);
    options.host = host;
    options.tls.emplace();
    options.tls->ca_file = file(ca);
    return options;
  }

  // Connects, subscribes and receives its own message: the TLS connection really carries MQTT.
  void round_trip(Session& session) {
    Recorder rec;
    ASSERT_FALSE(session.subscribe("tls/echo", Qos::at_least_once));
    connect(session, rec);
    ASSERT_FALSE(session.publish("tls/echo", "secret", Qos::exactly_once));
    ASSERT_TRUE(run_until([&] { return !rec.payloads("tls/echo").empty(); }));
    EXPECT_EQ(rec.payloads("tls/echo").front(), "secret");
    close(session);
  }

  // Starts the session and waits for its first failed attempt.
  std::error_code first_failure(Session& session) {
    Recorder rec;
    rec.attach(session);
    EXPECT_FALSE(session.start());
    EXPECT_TRUE(run_until([&] { return rec.count(State::disconnected) >= 2; }));
    EXPECT_EQ(rec.count(State::connected), 0);
    return rec.states.empty() ? std::error_code() : rec.states.front().reason;
  }

  static inline std::unique_ptr<fg::test::TempDir> pki;
  fg::test::MosquittoBroker broker;
};

TEST_F(MqttTls, VerifiesTheBrokerCertificateAgainstTheHostName) {
  ASSERT_TRUE(start_broker()) << broker.last_error();
  auto session = make_session(tls_options("localhost", "tls-by-name"));
  round_trip(session);
}

// Across a real network the TCP connect takes a while and the TLS handshake begins on a socket that
// cannot be written yet (OpenSSL wants to write, libmosquitto keeps wanting to after the handshake
// has moved on to reading). The session must complete it without blocking or spinning the loop.
TEST_F(MqttTls, HandshakeOverASlowTcpConnectCompletesWithoutSpinning) {
  ASSERT_TRUE(start_broker()) << broker.last_error();
  SlowProxy proxy(loop, broker.port(), 200ms);
  auto options = tls_options("localhost", "tls-slow");
  options.port = proxy.port();
  auto session = make_session(options);
  IterationCounter iterations(loop);
  Recorder rec;
  connect(session, rec);
  EXPECT_TRUE(proxy.relayed());
  // Waiting ~1 s for the SYN retransmission costs a handful of iterations; a spinning poll would
  // cost hundreds of thousands.
  EXPECT_LT(iterations.count(), 200u);
  close(session);
}

TEST_F(MqttTls, AddressTheCertificateDoesNotNameIsRejectedUnlessInsecure) {
  ASSERT_TRUE(start_broker()) << broker.last_error();
  auto strict = make_session(tls_options("127.0.0.1", "tls-strict"));
  std::vector<std::string> log;
  strict.on_log([&](LogLevel, std::string_view line) { log.emplace_back(line); });
  auto reason = first_failure(strict);
  EXPECT_EQ(reason, MosquittoErrc::tls) << reason.message();
  // libmosquitto's log is where the reason is spelled out; the session passes it on.
  bool explained = false;
  for (const auto& line : log) {
    explained = explained || line.find("host name verification failed") != std::string::npos;
  }
  EXPECT_TRUE(explained);
  close(strict);

  auto options = tls_options("127.0.0.1", "tls-insecure");
  options.tls->insecure = true;
  auto insecure = make_session(options);
  round_trip(insecure);
}

TEST_F(MqttTls, BrokerSignedByAnotherCaIsRejected) {
  ASSERT_TRUE(start_broker()) << broker.last_error();
  auto session = make_session(tls_options("localhost", "tls-wrong-ca", "other-ca.crt"));
  auto reason = first_failure(session);
  EXPECT_EQ(reason, MosquittoErrc::tls) << reason.message();
  close(session);
}

// Issue 9: the reason of a TLS failure travels with the state change (StateChange::detail), so the
// warning a user sees at the default log level says it, without libmosquitto's debug log.
TEST_F(MqttTls, FailureDetailSaysWhyTheHandshakeFailed) {
  ASSERT_TRUE(start_broker()) << broker.last_error();
  struct Case {
    const char* host;
    const char* ca;
    const char* expected;
  };
  for (const auto& c : {Case{"localhost", "other-ca.crt", "certificate verify failed"},
                        Case{"127.0.0.1", "ca.crt", "host name verification failed"}}) {
    auto session = make_session(tls_options(c.host, std::string("tls-detail-") + c.ca, c.ca));
    Recorder rec;
    rec.attach(session);
    ASSERT_FALSE(session.start());
    ASSERT_TRUE(run_until([&] { return rec.count(State::disconnected) >= 1; }));
    const auto& change = rec.states.front();
    EXPECT_EQ(change.reason, MosquittoErrc::tls) << change.reason.message();
    EXPECT_NE(change.detail.find(c.expected), std::string::npos)
        << c.host << " with " << c.ca << ": detail \"" << change.detail << "\"";
    close(session);
  }
}

// A failure that is not TLS has no detail to add; nothing stale from an earlier attempt is carried.
TEST_F(MqttTls, RefusedConnectionHasNoDetail) {
  auto options = tls_options("127.0.0.1", "tls-refused");
  options.port = fg::test::MosquittoBroker::free_port();  // nobody listens there
  auto session = make_session(options);
  Recorder rec;
  rec.attach(session);
  ASSERT_FALSE(session.start());
  ASSERT_TRUE(run_until([&] { return rec.count(State::disconnected) >= 1; }));
  // With TLS set up, libmosquitto reports the refused connect as a lost connection.
  EXPECT_NE(rec.states.front().reason, MosquittoErrc::tls) << rec.states.front().reason.message();
  EXPECT_EQ(rec.states.front().detail, "");
  close(session);
}

TEST_F(MqttTls, ClientCertificateIsPresentedWhenTheBrokerRequiresOne) {
  ASSERT_TRUE(start_broker(/*require_client_certificate=*/true)) << broker.last_error();
  auto options = tls_options("localhost", "tls-client-cert");
  options.tls->cert_file = file("client.crt");
  options.tls->key_file = file("client.key");
  auto with_cert = make_session(options);
  round_trip(with_cert);

  auto without_cert = make_session(tls_options("localhost", "tls-no-client-cert"));
  auto reason = first_failure(without_cert);
  // The broker ends the handshake; depending on timing that reads as a reset or a TLS error.
  EXPECT_TRUE(reason) << "refused without a client certificate";
  close(without_cert);
}

}  // namespace
}  // namespace fg::mqtt::test
