// SPDX-License-Identifier: Apache-2.0
//
// Config: the `weir` binary's settings, Flink style: flat dotted keys
// ("rest.port") with typed values, read from a YAML file and overridden by
// dynamic properties (`-D key=value`). Only known keys are accepted; each is
// listed, with its type and default, by KnownConfigKeys() and documented in
// docs/configuration.md.
//
// A Config is a value; a const Config may be read from many threads.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <weir/result.h>

namespace weir::tools {

enum class ConfigType { kInt, kString, kBool, kDuration, kEnum, kMemorySize };

struct ConfigKey {
  std::string key;
  ConfigType type = ConfigType::kString;
  // The default as text (a duration in the FormatDurationMs form), or
  // nullopt if the key has none.
  std::optional<std::string> default_value;
  std::vector<std::string> choices;  // kEnum only
  int64_t min = 0;  // kInt, kDuration (ms) and kMemorySize (bytes)
  int64_t max = 0;  // kInt and kMemorySize
  std::vector<std::string> aliases;  // older names with the same meaning
  std::string description;
};

// Every known key, in documentation order.
const std::vector<ConfigKey>& KnownConfigKeys();

// The known key `key` names, directly or as an alias; nullptr if none.
const ConfigKey* FindConfigKey(std::string_view key);

class Config {
 public:
  // Every key at its default.
  Config() = default;

  // Sets `key` (or an alias of it) from text, checking the value against the
  // key's type. InvalidArgument, without a location prefix:
  //   unknown config key 'rest.prot' (did you mean 'rest.port'?)
  //   rest.port: '70000' is out of range (0..65535)
  Status Set(std::string_view key, std::string_view value);

  // True if the key (or an alias) was set, by the file or by -D.
  bool IsSet(std::string_view key) const;

  // The value that was set, else the default, else nullopt. `key` may be an
  // alias. REQUIRES: key is known and of the getter's type (GetString also
  // reads enums); anything else is a bug and asserts.
  std::optional<int64_t> GetInt(std::string_view key) const;
  std::optional<std::string> GetString(std::string_view key) const;
  std::optional<bool> GetBool(std::string_view key) const;
  std::optional<int64_t> GetDurationMs(std::string_view key) const;
  std::optional<int64_t> GetBytes(std::string_view key) const;

  // The effective value of every key that has one (set or default), by
  // canonical key, as normalized text. For display (`weir config`, REST).
  std::map<std::string, std::string> EffectiveValues() const;

 private:
  const std::string* Raw(std::string_view key, ConfigType type) const;

  std::map<std::string, std::string> values_;  // canonical key -> text
};

// Loads the YAML config file at `path` (if given), then applies
// `dynamic_properties`, each "key=value" (a leading "-D" is allowed), which
// override the file. The file holds flat keys (`rest.port: 0`) or nested
// maps (`rest: {port: 0}`), which are flattened. Errors are InvalidArgument
// prefixed "<path>:<line>: " or "-D <property>: "; a key set twice in the
// file is an error. NotFound/IOError if the file cannot be read.
Result<Config> LoadConfig(const std::optional<std::string>& path,
                          const std::vector<std::string>& dynamic_properties);

// As LoadConfig, from YAML text; `display_path` starts error messages.
Result<Config> LoadConfigString(
    std::string_view yaml, const std::string& display_path,
    const std::vector<std::string>& dynamic_properties);

}  // namespace weir::tools
