// SPDX-License-Identifier: Apache-2.0
//
// Config: the `weir` binary's settings, Flink style: flat dotted keys
// ("rest.port") with typed values. Only known keys are accepted; each is
// listed, with its type and default, by KnownConfigKeys() and documented in
// docs/configuration.md. Precedence, highest first: the command line (`-D
// key=value`), the job file's `config:` block, the configuration file
// (ConfigFilePath()), the key's default.
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

namespace YAML {
class Node;
}

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

// One `key: value` of a YAML map (a configuration file, a job file's
// `config:` block), checked: `key` is canonical (not an alias) and `value`
// normalized.
struct ConfigSetting {
  std::string key;
  std::string value;
  int line = 0;  // 1-based, in the file it came from
};

class Config {
 public:
  // Every key at its default.
  Config() = default;

  // Sets `key` (or an alias of it) from text, checking the value against the
  // key's type. InvalidArgument, without a location prefix:
  //   unknown config key 'rest.prot' (did you mean 'rest.port'?)
  //   rest.port: '70000' is out of range (0..65535)
  Status Set(std::string_view key, std::string_view value);

  // Sets every setting in order (a later one replaces an earlier one).
  Status Apply(const std::vector<ConfigSetting>& settings);

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

// The settings of a YAML map: the root of a configuration file or a job
// file's `config:` block. Nested maps are flattened (`rest: {port: 0}` is
// `rest.port: 0`); every key must be known and every value valid for it; a
// key set twice (also through an alias) is an error. InvalidArgument
// "<display_path>:<line>: <why>".
Result<std::vector<ConfigSetting>> ConfigSettingsFromYaml(
    const YAML::Node& map, const std::string& display_path);

// Where the configuration file is: "$WEIR_CONF_DIR/config.yaml" when
// `weir_conf_dir` (the variable's value; may be null) is set and not empty,
// else "/etc/weir/config.yaml".
std::string ConfigFilePath(const char* weir_conf_dir);

// The settings of the configuration file, and which file that was.
struct ConfigFile {
  Config config;                    // the file's keys; defaults elsewhere
  std::optional<std::string> path;  // nullopt if no file was read
};

// Reads the configuration file: `explicit_path` (`weir run -c FILE`) if
// given, which must exist; else ConfigFilePath($WEIR_CONF_DIR). With
// WEIR_CONF_DIR set, that directory must exist (InvalidArgument
// "WEIR_CONF_DIR=<dir>: ..." otherwise); a missing config.yaml in it, or a
// missing /etc/weir/config.yaml, is no file: every key at its default. A
// file that exists but cannot be read, is not a regular file, holds more
// than 1 MiB or is malformed is an error naming it.
Result<ConfigFile> LoadConfigFile(
    const std::optional<std::string>& explicit_path);
// As above with `weir_conf_dir` in place of $WEIR_CONF_DIR.
Result<ConfigFile> LoadConfigFile(
    const std::optional<std::string>& explicit_path, const char* weir_conf_dir);

// Applies `dynamic_properties`, each "key=value" (a leading "-D" is
// allowed), over `config`. InvalidArgument "-D <property>: <why>".
Status ApplyDynamicProperties(const std::vector<std::string>& properties,
                              Config* config);

// The configuration of a `weir run`: the configuration file's settings,
// then the job file's `config:` block over them, then the dynamic
// properties (`-D`) over both. Errors as ApplyDynamicProperties.
Result<Config> LayerConfig(const ConfigFile& file,
                           const std::vector<ConfigSetting>& job_settings,
                           const std::vector<std::string>& dynamic_properties);

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
