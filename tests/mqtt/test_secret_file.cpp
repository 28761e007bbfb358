#include "mqtt/secret_file.hpp"

#include <gtest/gtest.h>

#include "tests/support/temp_dir.hpp"

namespace fg::mqtt {
namespace {

TEST(MqttSecretFile, TrailingNewlineIsStripped) {
  test::TempDir dir;
  test::write_file(dir / "pw", "s3cret\n");
  auto secret = read_secret_file(dir / "pw");
  ASSERT_TRUE(secret) << secret.error().message();
  EXPECT_EQ(*secret, "s3cret");
}

TEST(MqttSecretFile, CrLfAndSeveralLineEndsAreStrippedButInnerSpacesKept) {
  test::TempDir dir;
  test::write_file(dir / "pw", " pass word \r\n\n");
  EXPECT_EQ(read_secret_file(dir / "pw").value(), " pass word ");
}

TEST(MqttSecretFile, WithoutNewlineIsReadAsIs) {
  test::TempDir dir;
  test::write_file(dir / "pw", "abc");
  EXPECT_EQ(read_secret_file(dir / "pw").value(), "abc");
}

TEST(MqttSecretFile, MissingFileIsAnErrorValue) {
  test::TempDir dir;
  auto secret = read_secret_file(dir / "nope");
  ASSERT_FALSE(secret);
  EXPECT_EQ(secret.error(), std::errc::no_such_file_or_directory);
}

TEST(MqttSecretFile, EmptyFileIsAnErrorValue) {
  test::TempDir dir;
  test::write_file(dir / "pw", "\n");
  auto secret = read_secret_file(dir / "pw");
  ASSERT_FALSE(secret);
  EXPECT_EQ(secret.error(), std::errc::invalid_argument);
}

TEST(MqttSecretFile, DirectoryIsAnErrorValue) {
  test::TempDir dir;
  auto secret = read_secret_file(dir.path());
  ASSERT_FALSE(secret);
  EXPECT_EQ(secret.error(), std::errc::is_a_directory);
}

}  // namespace
}  // namespace fg::mqtt
