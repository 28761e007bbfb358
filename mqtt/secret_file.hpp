#pragma once
// read_secret_file: reads a secret (the MQTT password) from a file, so it never sits in the config file
// or on a command line. Trailing line ends ("\n", "\r\n", several of them) are stripped, because
// editors and `echo` add one; everything else, spaces included, is part of the secret.

#include <expected>
#include <filesystem>
#include <string>
#include <system_error>

namespace fg::mqtt {

// Errors: the errno of open/read (no_such_file_or_directory, permission_denied, is_a_directory, ...),
// std::errc::invalid_argument if the file holds nothing but line ends (an empty secret is almost
// certainly a deployment mistake), std::errc::file_too_large above 64 KiB (not a password file).
std::expected<std::string, std::error_code> read_secret_file(const std::filesystem::path& path);

}  // namespace fg::mqtt
