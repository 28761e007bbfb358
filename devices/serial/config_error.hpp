#pragma once

#include <string>

namespace fg::devices::serial {

// A framer, parser or channel setting that cannot work, reported when the object is created. The message
// is a sentence fragment naming the setting ("line delimiter must not be empty"); the config layer adds the
// file, line, column and key.
struct ConfigError {
  std::string message;
};

}  // namespace fg::devices::serial
