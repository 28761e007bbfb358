#include "quorum/site_key.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/support/temp_dir.hpp"

namespace fg::quorum {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string hex_of(std::span<const std::uint8_t> bytes) {
  static const char* digits = "0123456789abcdef";
  std::string hex;
  for (std::uint8_t b : bytes) {
    hex += digits[b >> 4];
    hex += digits[b & 15];
  }
  return hex;
}

unsigned mode_of(const std::filesystem::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  return st.st_mode & 07777;
}

// Writes `content` to a new file with `mode`.
std::filesystem::path key_file(const test::TempDir& dir, const std::string& content, unsigned mode = 0600) {
  auto path = dir / "site.key";
  test::write_file(path, content);
  EXPECT_EQ(::chmod(path.c_str(), mode), 0);
  return path;
}

const std::string kHex = "00112233445566778899aabbccddeeff0123456789abcdeffedcba9876543210";

class SiteKeyFile : public ::testing::Test {
 protected:
  test::TempDir dir_;
};

TEST_F(SiteKeyFile, KeygenWrites64LowercaseHexDigitsAndANewlineWithMode0600) {
  auto path = dir_ / "site.key";
  EXPECT_EQ(keygen(path), "");
  EXPECT_THAT(read_text(path), MatchesRegex("[0-9a-f]{64}\n"));
  EXPECT_EQ(mode_of(path), 0600u);
}

TEST_F(SiteKeyFile, KeygenMakesADifferentKeyEachTime) {
  ASSERT_EQ(keygen(dir_ / "a.key"), "");
  ASSERT_EQ(keygen(dir_ / "b.key"), "");
  EXPECT_NE(read_text(dir_ / "a.key"), read_text(dir_ / "b.key"));
}

TEST_F(SiteKeyFile, KeygenNeverOverwritesAnExistingFile) {
  auto path = key_file(dir_, kHex + "\n");
  const std::string error = keygen(path);
  EXPECT_THAT(error, HasSubstr(path.string() + ": already exists"));
  EXPECT_THAT(error, HasSubstr("never overwrites"));
  EXPECT_EQ(read_text(path), kHex + "\n");
}

TEST_F(SiteKeyFile, KeygenDoesNotFollowASymlink) {
  auto target = dir_ / "elsewhere";
  auto link = dir_ / "site.key";
  std::filesystem::create_symlink(target, link);
  EXPECT_THAT(keygen(link), HasSubstr(link.string() + ": already exists"));
  EXPECT_FALSE(std::filesystem::exists(target));
}

TEST_F(SiteKeyFile, KeygenIntoAMissingDirectoryNamesThePath) {
  auto path = dir_ / "no-such-dir" / "site.key";
  EXPECT_EQ(keygen(path), path.string() + ": cannot create the key file: No such file or directory");
}

TEST_F(SiteKeyFile, LoadReadsTheKeyKeygenWrote) {
  auto path = dir_ / "site.key";
  ASSERT_EQ(keygen(path), "");
  auto loaded = load_site_key(path);
  ASSERT_TRUE(loaded) << loaded.error;
  EXPECT_EQ(hex_of(loaded.key->bytes()) + "\n", read_text(path));
  EXPECT_EQ(loaded.error, "");
}

TEST_F(SiteKeyFile, LoadAcceptsUppercaseCrLfAndNoLineEnd) {
  std::string upper = kHex;
  for (char& c : upper) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  for (const std::string& content : {kHex + "\n", upper + "\n", kHex + "\r\n", kHex}) {
    test::TempDir dir;
    auto loaded = load_site_key(key_file(dir, content));
    ASSERT_TRUE(loaded) << loaded.error;
    EXPECT_EQ(hex_of(loaded.key->bytes()), kHex);
  }
}

// root:fieldgate 0640 is the normal systemd deployment (see site_key.hpp).
TEST_F(SiteKeyFile, LoadAcceptsAGroupReadableFile) {
  for (unsigned mode : {0600u, 0400u, 0640u, 0660u}) {
    auto loaded = load_site_key(key_file(dir_, kHex + "\n", mode));
    EXPECT_TRUE(loaded) << std::oct << mode << ": " << loaded.error;
  }
}

TEST_F(SiteKeyFile, LoadRefusesAFileOtherUsersMayAccess) {
  for (unsigned mode : {0644u, 0604u, 0602u, 0601u, 0666u}) {
    auto path = key_file(dir_, kHex + "\n", mode);
    auto loaded = load_site_key(path);
    EXPECT_FALSE(loaded);
    char expected_mode[8];
    std::snprintf(expected_mode, sizeof expected_mode, "%04o", mode);
    EXPECT_EQ(loaded.error, path.string() + ": key file is accessible by other users (mode " + expected_mode +
                                "); chmod 600 it");
  }
}

TEST_F(SiteKeyFile, LoadOfAMissingFileSaysHowToMakeOne) {
  auto path = dir_ / "site.key";
  auto loaded = load_site_key(path);
  EXPECT_FALSE(loaded);
  EXPECT_EQ(loaded.error, path.string() + ": no such key file; make one with `fieldgate keygen " +
                              path.string() + "` and copy it to every gateway of the site");
}

TEST_F(SiteKeyFile, LoadRefusesADirectory) {
  auto path = dir_ / "dir.key";
  std::filesystem::create_directory(path);
  ::chmod(path.c_str(), 0700);
  EXPECT_EQ(load_site_key(path).error, path.string() + ": the key file is not a regular file");
}

TEST_F(SiteKeyFile, LoadRefusesAFifoWithoutWaitingForAWriter) {
  auto path = dir_ / "fifo.key";
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  EXPECT_EQ(load_site_key(path).error, path.string() + ": the key file is not a regular file");
}

TEST_F(SiteKeyFile, LoadRefusesAnythingButExactly64HexDigits) {
  const std::string wrong_length = ": expected 64 hex digits (a 32-byte key) and a newline";
  struct Case {
    std::string content;
    std::string error;
  };
  for (const Case& c : {
           Case{"", wrong_length},
           Case{"\n", wrong_length},
           Case{kHex.substr(0, 62) + "\n", wrong_length},
           Case{kHex + "0\n", wrong_length},
           Case{kHex + "\n\n", wrong_length},
           Case{kHex + "\nmore", wrong_length},
           Case{" " + kHex.substr(1) + "\n", ": not a hex digit at offset 0"},
           Case{kHex.substr(0, 63) + "g\n", ": not a hex digit at offset 63"},
           Case{kHex.substr(0, 10) + "x" + kHex.substr(11), ": not a hex digit at offset 10"},
           Case{std::string(200, 'a'), wrong_length},
       }) {
    test::TempDir dir;
    auto path = key_file(dir, c.content);
    auto loaded = load_site_key(path);
    EXPECT_FALSE(loaded) << c.content;
    EXPECT_THAT(loaded.error, HasSubstr(path.string() + c.error)) << c.content;
  }
}

TEST(SiteKey, CopiesAndMovesKeepTheBytes) {
  std::array<std::uint8_t, SiteKey::kSize> bytes{};
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    bytes[i] = static_cast<std::uint8_t>(i * 7);
  }
  SiteKey key(bytes);
  SiteKey copy = key;
  EXPECT_NE(copy.bytes().data(), key.bytes().data());
  EXPECT_TRUE(std::equal(copy.bytes().begin(), copy.bytes().end(), bytes.begin()));
  SiteKey moved = std::move(copy);
  EXPECT_TRUE(std::equal(moved.bytes().begin(), moved.bytes().end(), bytes.begin()));
  SiteKey other = SiteKey::random();
  other = key;
  EXPECT_TRUE(std::equal(other.bytes().begin(), other.bytes().end(), bytes.begin()));
  other = SiteKey::random();
  EXPECT_FALSE(std::equal(other.bytes().begin(), other.bytes().end(), bytes.begin()));
}

}  // namespace
}  // namespace fg::quorum
