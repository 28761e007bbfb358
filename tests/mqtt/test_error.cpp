#include "mqtt/error.hpp"

#include <gtest/gtest.h>

namespace fg::mqtt {
namespace {

TEST(MqttError, MosquittoCodesHaveMessagesAndConditions) {
  std::error_code tls = MosquittoErrc::tls;
  EXPECT_EQ(tls.category().name(), std::string("mosquitto"));
  EXPECT_FALSE(tls.message().empty());
  EXPECT_EQ(std::error_code(MosquittoErrc::keepalive), std::errc::timed_out);
  EXPECT_EQ(std::error_code(MosquittoErrc::conn_lost), std::errc::connection_aborted);
  EXPECT_EQ(std::error_code(MosquittoErrc::auth), std::errc::permission_denied);
  EXPECT_FALSE(mosquitto_error(0)) << "MOSQ_ERR_SUCCESS is no error";
  EXPECT_EQ(mosquitto_error(8), MosquittoErrc::tls);
}

TEST(MqttError, ReasonCodesMapAuthenticationFailuresToPermissionDenied) {
  EXPECT_EQ(std::error_code(ReasonCode::bad_username_or_password), std::errc::permission_denied);
  EXPECT_EQ(std::error_code(ReasonCode::not_authorized), std::errc::permission_denied);
  EXPECT_EQ(std::error_code(ReasonCode::server_unavailable), std::errc::connection_refused);
  EXPECT_NE(std::error_code(ReasonCode::session_taken_over), std::errc::permission_denied);
  EXPECT_EQ(reason_error(0x87), ReasonCode::not_authorized);
  EXPECT_FALSE(reason_error(0));
  EXPECT_NE(std::error_code(ReasonCode::not_authorized).message().find("uthori"), std::string::npos)
      << std::error_code(ReasonCode::not_authorized).message();
}

TEST(MqttError, V311ConnackCodesBecomeMqtt5ReasonCodes) {
  EXPECT_EQ(reason_from_connack_v311(4), 0x86);
  EXPECT_EQ(reason_from_connack_v311(5), 0x87);
  EXPECT_EQ(reason_from_connack_v311(3), 0x88);
  EXPECT_EQ(reason_from_connack_v311(1), 0x84);
  EXPECT_EQ(reason_from_connack_v311(2), 0x85);
  EXPECT_EQ(reason_from_connack_v311(0), 0);
}

}  // namespace
}  // namespace fg::mqtt
