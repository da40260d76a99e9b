// SPDX-License-Identifier: Apache-2.0
#include "tools/job/config.h"

#include <sys/stat.h>

#include <cassert>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <limits>
#include <utility>
#include <yaml-cpp/yaml.h>

#include <weir/options.h>

#include "lib/file.h"
#include "tools/job/text.h"

namespace weir::tools {

namespace {

constexpr int64_t kIntMax = std::numeric_limits<int64_t>::max();

ConfigKey IntKey(std::string key, int64_t def, int64_t min, int64_t max,
                 std::string description) {
  ConfigKey k;
  k.key = std::move(key);
  k.type = ConfigType::kInt;
  k.default_value = std::to_string(def);
  k.min = min;
  k.max = max;
  k.description = std::move(description);
  return k;
}

ConfigKey BoolKey(std::string key, bool def, std::string description) {
  ConfigKey k;
  k.key = std::move(key);
  k.type = ConfigType::kBool;
  k.default_value = def ? "true" : "false";
  k.description = std::move(description);
  return k;
}

ConfigKey StringKey(std::string key, std::optional<std::string> def,
                    std::string description) {
  ConfigKey k;
  k.key = std::move(key);
  k.type = ConfigType::kString;
  k.default_value = std::move(def);
  k.description = std::move(description);
  return k;
}

ConfigKey SizeKey(std::string key, int64_t def, int64_t min, int64_t max,
                  std::string description) {
  ConfigKey k;
  k.key = std::move(key);
  k.type = ConfigType::kMemorySize;
  k.default_value = FormatMemorySize(def);
  k.min = min;
  k.max = max;
  k.description = std::move(description);
  return k;
}

ConfigKey EnumKey(std::string key, std::string def,
                  std::vector<std::string> choices, std::string description) {
  ConfigKey k;
  k.key = std::move(key);
  k.type = ConfigType::kEnum;
  k.default_value = std::move(def);
  k.choices = std::move(choices);
  k.description = std::move(description);
  return k;
}

ConfigKey Aliased(ConfigKey key, std::string alias) {
  key.aliases.push_back(std::move(alias));
  return key;
}

// The state.backend.rocksdb.* keys, one per field of weir::RocksDBOptions
// (include/weir/options.h), with its default; Flink's names where Flink
// has the option.
void AddRocksDBKeys(std::vector<ConfigKey>* keys) {
  const RocksDBOptions d;
  constexpr int64_t kTiB = int64_t{1} << 40;
  keys->push_back(SizeKey("state.backend.rocksdb.block.cache-size",
                          static_cast<int64_t>(d.block_cache_bytes), 0, kTiB,
                          "LRU cache of uncompressed data blocks, per task."));
  keys->push_back(SizeKey("state.backend.rocksdb.writebuffer.size",
                          static_cast<int64_t>(d.write_buffer_bytes), 64 << 10,
                          int64_t{1} << 34,
                          "Memtable size per operator and task."));
  keys->push_back(IntKey("state.backend.rocksdb.writebuffer.count",
                         d.max_write_buffer_number, 2, 64,
                         "Memtables per operator and task, the active one "
                         "included."));
  keys->push_back(SizeKey("state.backend.rocksdb.block.blocksize",
                          static_cast<int64_t>(d.block_size), 1 << 10,
                          int64_t{1} << 30,
                          "Uncompressed size of an SST data block."));
  keys->push_back(IntKey("state.backend.rocksdb.bloom-filter.bits-per-key",
                         d.bloom_bits_per_key, 0, 64,
                         "Bloom filter bits per key; 0 = no filters."));
  keys->push_back(EnumKey(
      "state.backend.rocksdb.compression", "auto",
      {"auto", "none", "snappy", "lz4", "zstd"},
      "Compression of SST levels 2 and below; auto = none with mmap reads, "
      "lz4 with pread."));
  keys->push_back(EnumKey(
      "state.backend.rocksdb.read-mode", "auto", {"auto", "mmap", "pread"},
      "How SST files are read; auto = mmap while the state fits in half of "
      "the memory budget, pread above (chosen at start and restore)."));
  keys->push_back(SizeKey(
      "state.backend.rocksdb.memory-budget", 0, 0, int64_t{1} << 50,
      "Memory the auto read mode compares state against; 0 = the machine's "
      "or the cgroup's limit."));
  keys->push_back(IntKey("state.backend.rocksdb.thread.num",
                         d.max_background_jobs, 1, 256,
                         "Background flush and compaction threads per task."));
  keys->push_back(BoolKey("state.backend.rocksdb.ready-db-snapshots",
                          d.ready_db_snapshots,
                          "Snapshots carry a ready-made DB, for fast restores "
                          "at the same parallelism."));
}

std::vector<ConfigKey> MakeKeys() {
  std::vector<ConfigKey> keys;
  keys.push_back(IntKey("parallelism.default", 1, 1, 32768,
                        "Parallelism of operators that set none."));
  ConfigKey backend;
  backend.key = "state.backend.type";
  backend.type = ConfigType::kEnum;
  backend.default_value = "rocksdb";
  backend.choices = {"rocksdb", "hashmap"};
  backend.description = "Where keyed state lives: RocksDB or in memory.";
  keys.push_back(backend);
  keys.push_back(StringKey("state.backend.local-dir", "",
                           "Working directory of the state backends; empty "
                           "= $TMPDIR/weir."));
  AddRocksDBKeys(&keys);
  keys.push_back(IntKey("rest.port", 8081, 0, 65535,
                        "Port of the REST endpoint; 0 = any free port."));
  keys.push_back(StringKey("rest.address", "127.0.0.1",
                           "Address the REST endpoint listens on. Anyone "
                           "who can reach it controls the job, savepoint "
                           "directories included: set rest.token too when "
                           "it is not loopback."));
  keys.push_back(StringKey("rest.token", std::nullopt,
                           "A secret every REST request must carry as "
                           "'Authorization: Bearer <token>' (the weir "
                           "commands send $WEIR_REST_TOKEN); unset = none."));
  ConfigKey linger;
  linger.key = "rest.archive-linger";
  linger.type = ConfigType::kDuration;
  linger.default_value = "3s";
  linger.description =
      "How long weir run keeps answering REST requests about its job after "
      "the job ended, before it exits; 0 = exit at once.";
  keys.push_back(linger);
  keys.push_back(IntKey("pipeline.max-parallelism", 128, 1, 32768,
                        "Number of key groups, for jobs that set none."));
  ConfigKey watermark;
  watermark.key = "pipeline.auto-watermark-interval";
  watermark.type = ConfigType::kDuration;
  watermark.default_value = "200ms";
  watermark.description = "How often sources emit watermarks.";
  keys.push_back(watermark);
  ConfigKey interval;
  interval.key = "execution.checkpointing.interval";
  interval.type = ConfigType::kDuration;
  interval.min = 1;
  interval.description =
      "Time between periodic checkpoints; unset = no periodic checkpoints.";
  keys.push_back(interval);
  keys.push_back(Aliased(
      StringKey("execution.checkpointing.dir", std::nullopt,
                "Checkpoint storage directory; unset = no checkpoints."),
      "state.checkpoints.dir"));
  keys.push_back(
      Aliased(StringKey("execution.checkpointing.savepoint-dir", std::nullopt,
                        "Default target directory of savepoints; unset = every "
                        "savepoint must name its directory."),
              "state.savepoints.dir"));
  keys.push_back(Aliased(IntKey("execution.checkpointing.num-retained", 1, 1,
                                kIntMax, "Completed checkpoints kept."),
                         "state.checkpoints.num-retained"));
  ConfigKey timeout;
  timeout.key = "execution.checkpointing.timeout";
  timeout.type = ConfigType::kDuration;
  timeout.default_value = "10m";
  timeout.min = 1;
  timeout.description = "A checkpoint not complete after this long is aborted.";
  keys.push_back(timeout);
  ConfigKey pause;
  pause.key = "execution.checkpointing.min-pause";
  pause.type = ConfigType::kDuration;
  pause.default_value = "0";
  pause.description =
      "Least time between the end of a checkpoint and the next periodic one.";
  keys.push_back(pause);
  keys.push_back(IntKey("execution.checkpointing.max-concurrent-checkpoints", 1,
                        1, 1000, "Checkpoints in progress at once."));
  ConfigKey incremental;
  incremental.key = "execution.checkpointing.incremental";
  incremental.type = ConfigType::kBool;
  incremental.default_value = "true";
  incremental.aliases = {"state.backend.incremental"};
  incremental.description =
      "Checkpoints upload only SST files the checkpoint storage lacks.";
  keys.push_back(incremental);
  ConfigKey restart;
  restart.key = "restart-strategy.type";
  restart.type = ConfigType::kEnum;
  restart.default_value = "none";
  restart.choices = {"none", "off", "disable", "fixed-delay", "fixeddelay"};
  restart.aliases = {"restart-strategy"};
  restart.description =
      "What a failed job does: none (fail) or fixed-delay (restart from the "
      "latest checkpoint).";
  keys.push_back(restart);
  keys.push_back(EnumKey(
      "execution.stop-on-signal", "checkpoint",
      {"checkpoint", "savepoint", "cancel"},
      "What weir run does on SIGTERM or SIGINT: a final checkpoint and then "
      "cancel, stop with a savepoint, or cancel at once."));
  keys.push_back(IntKey("restart-strategy.fixed-delay.attempts", 1, 0,
                        std::numeric_limits<int32_t>::max(),
                        "Restarts before a failed job fails for good."));
  ConfigKey delay;
  delay.key = "restart-strategy.fixed-delay.delay";
  delay.type = ConfigType::kDuration;
  delay.default_value = "1s";
  delay.description = "Time between a failure and the restart.";
  keys.push_back(delay);
  return keys;
}

// Checks `value` against `key` and returns its normalized text.
Result<std::string> Normalize(const ConfigKey& key, std::string_view value) {
  const std::string bad = key.key + ": '" + std::string(value) + "' ";
  switch (key.type) {
    case ConfigType::kString:
      return std::string(value);
    case ConfigType::kInt: {
      std::optional<int64_t> n = ParseInt64(value);
      if (!n) return Status::InvalidArgument(bad + "is not an integer");
      if (*n < key.min || *n > key.max) {
        return Status::InvalidArgument(
            bad + "is out of range (" + std::to_string(key.min) + ".." +
            (key.max == kIntMax ? std::string() : std::to_string(key.max)) +
            ")");
      }
      return std::to_string(*n);
    }
    case ConfigType::kBool: {
      std::optional<bool> b = ParseBool(value);
      if (!b) return Status::InvalidArgument(bad + "is not true or false");
      return std::string(*b ? "true" : "false");
    }
    case ConfigType::kDuration: {
      Result<int64_t> ms = ParseDurationMs(value);
      if (!ms.ok()) {
        return Status::InvalidArgument(key.key + ": " +
                                       std::string(ms.status().message()));
      }
      if (*ms < key.min) {
        return Status::InvalidArgument(bad + "must be at least " +
                                       FormatDurationMs(key.min));
      }
      return FormatDurationMs(*ms);
    }
    case ConfigType::kMemorySize: {
      Result<int64_t> bytes = ParseMemorySize(value);
      if (!bytes.ok()) {
        return Status::InvalidArgument(key.key + ": " +
                                       std::string(bytes.status().message()));
      }
      if (*bytes < key.min || *bytes > key.max) {
        return Status::InvalidArgument(bad + "is out of range (" +
                                       FormatMemorySize(key.min) + ".." +
                                       FormatMemorySize(key.max) + ")");
      }
      return FormatMemorySize(*bytes);
    }
    case ConfigType::kEnum:
      for (const std::string& choice : key.choices) {
        if (choice == value) return choice;
      }
      return Status::InvalidArgument(bad + "is not one of " +
                                     Join(key.choices, ", "));
  }
  return Status::InvalidArgument(bad + "has an unknown type");
}

struct FlatEntry {
  std::string key;
  std::string value;
  int line;  // 1-based
};

Status Flatten(const YAML::Node& node, const std::string& prefix,
               const std::string& display_path, std::vector<FlatEntry>* out) {
  for (auto it = node.begin(); it != node.end(); ++it) {
    // Copies: `it->` points into a temporary proxy.
    const YAML::Node key = it->first;
    const YAML::Node value = it->second;
    const std::string where =
        display_path + ":" + std::to_string(key.Mark().line + 1) + ": ";
    if (!key.IsScalar()) {
      return Status::InvalidArgument(where + "config keys must be words");
    }
    const std::string full = prefix + key.Scalar();
    if (value.IsMap()) {
      Status s = Flatten(value, full + ".", display_path, out);
      if (!s.ok()) return s;
      continue;
    }
    if (value.IsNull()) {
      return Status::InvalidArgument(where + full + ": no value");
    }
    if (!value.IsScalar()) {
      return Status::InvalidArgument(where + full +
                                     ": the value must be a single value");
    }
    out->push_back({full, value.Scalar(), key.Mark().line + 1});
  }
  return Status::OK();
}

}  // namespace

Status ApplyDynamicProperties(const std::vector<std::string>& properties,
                              Config* config) {
  for (std::string_view property : properties) {
    if (property.starts_with("-D")) property.remove_prefix(2);
    const std::string where = "-D " + std::string(property) + ": ";
    const size_t eq = property.find('=');
    if (eq == std::string_view::npos) {
      return Status::InvalidArgument(where + "expected key=value");
    }
    // Spaces around '=' are dropped, as YAML drops them around ':'.
    auto trim = [](std::string_view text) {
      while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
      while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
      return text;
    };
    Status s = config->Set(trim(property.substr(0, eq)),
                           trim(property.substr(eq + 1)));
    if (!s.ok())
      return Status::InvalidArgument(where + std::string(s.message()));
  }
  return Status::OK();
}

const std::vector<ConfigKey>& KnownConfigKeys() {
  static const auto* keys = new std::vector<ConfigKey>(MakeKeys());
  return *keys;
}

const ConfigKey* FindConfigKey(std::string_view key) {
  for (const ConfigKey& known : KnownConfigKeys()) {
    if (known.key == key) return &known;
    for (const std::string& alias : known.aliases) {
      if (alias == key) return &known;
    }
  }
  return nullptr;
}

Status Config::Set(std::string_view key, std::string_view value) {
  const ConfigKey* known = FindConfigKey(key);
  if (known == nullptr) {
    std::vector<std::string> names;
    for (const ConfigKey& k : KnownConfigKeys()) {
      names.push_back(k.key);
      names.insert(names.end(), k.aliases.begin(), k.aliases.end());
    }
    std::string msg = "unknown config key '" + std::string(key) + "'";
    if (std::optional<std::string> near = ClosestMatch(key, names)) {
      msg += " (did you mean '" + *near + "'?)";
    }
    return Status::InvalidArgument(msg);
  }
  Result<std::string> normalized = Normalize(*known, value);
  if (!normalized.ok()) return normalized.status();
  values_[known->key] = std::move(normalized).value();
  return Status::OK();
}

Status Config::Apply(const std::vector<ConfigSetting>& settings) {
  for (const ConfigSetting& setting : settings) {
    Status s = Set(setting.key, setting.value);
    if (!s.ok()) return s;
  }
  return Status::OK();
}

bool Config::IsSet(std::string_view key) const {
  const ConfigKey* known = FindConfigKey(key);
  return known != nullptr && values_.count(known->key) > 0;
}

const std::string* Config::Raw(std::string_view key, ConfigType type) const {
  const ConfigKey* known = FindConfigKey(key);
  assert(known != nullptr && "unknown config key");
  if (known == nullptr) return nullptr;
  assert((known->type == type ||
          (type == ConfigType::kString && known->type == ConfigType::kEnum)) &&
         "config getter of the wrong type");
  (void)type;  // only checked in debug builds
  auto it = values_.find(known->key);
  if (it != values_.end()) return &it->second;
  return known->default_value ? &*known->default_value : nullptr;
}

std::optional<int64_t> Config::GetInt(std::string_view key) const {
  const std::string* raw = Raw(key, ConfigType::kInt);
  return raw ? ParseInt64(*raw) : std::nullopt;
}

std::optional<std::string> Config::GetString(std::string_view key) const {
  const std::string* raw = Raw(key, ConfigType::kString);
  return raw ? std::optional<std::string>(*raw) : std::nullopt;
}

std::optional<bool> Config::GetBool(std::string_view key) const {
  const std::string* raw = Raw(key, ConfigType::kBool);
  return raw ? ParseBool(*raw) : std::nullopt;
}

std::optional<int64_t> Config::GetDurationMs(std::string_view key) const {
  const std::string* raw = Raw(key, ConfigType::kDuration);
  if (raw == nullptr) return std::nullopt;
  Result<int64_t> ms = ParseDurationMs(*raw);
  return ms.ok() ? std::optional<int64_t>(*ms) : std::nullopt;
}

std::optional<int64_t> Config::GetBytes(std::string_view key) const {
  const std::string* raw = Raw(key, ConfigType::kMemorySize);
  if (raw == nullptr) return std::nullopt;
  Result<int64_t> bytes = ParseMemorySize(*raw);
  return bytes.ok() ? std::optional<int64_t>(*bytes) : std::nullopt;
}

std::map<std::string, std::string> Config::EffectiveValues() const {
  std::map<std::string, std::string> out;
  for (const ConfigKey& key : KnownConfigKeys()) {
    if (auto it = values_.find(key.key); it != values_.end()) {
      out[key.key] = it->second;
    } else if (key.default_value) {
      out[key.key] = *key.default_value;
    }
  }
  return out;
}

Result<std::vector<ConfigSetting>> ConfigSettingsFromYaml(
    const YAML::Node& map, const std::string& display_path) {
  std::vector<FlatEntry> entries;
  try {
    Status s = Flatten(map, "", display_path, &entries);
    if (!s.ok()) return s;
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(display_path + ":" +
                                   std::to_string(e.mark.line + 1) +
                                   ": invalid YAML: " + e.msg);
  }
  std::vector<ConfigSetting> out;
  std::map<std::string, int> lines;  // canonical key -> line set
  for (const FlatEntry& entry : entries) {
    const std::string where =
        display_path + ":" + std::to_string(entry.line) + ": ";
    Config check;
    Status s = check.Set(entry.key, entry.value);
    if (!s.ok()) {
      return Status::InvalidArgument(where + std::string(s.message()));
    }
    const std::string& canonical = FindConfigKey(entry.key)->key;
    if (auto [it, fresh] = lines.emplace(canonical, entry.line); !fresh) {
      return Status::InvalidArgument(where + "'" + canonical +
                                     "' is set twice (also on line " +
                                     std::to_string(it->second) + ")");
    }
    Result<std::string> value =
        Normalize(*FindConfigKey(canonical), entry.value);
    if (!value.ok()) return value.status();  // Set accepted it: not reached
    out.push_back({canonical, std::move(value).value(), entry.line});
  }
  return out;
}

Result<Config> LoadConfigString(
    std::string_view yaml, const std::string& display_path,
    const std::vector<std::string>& dynamic_properties) {
  Config config;
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    if (root.IsDefined() && !root.IsNull()) {
      if (!root.IsMap()) {
        return Status::InvalidArgument(
            display_path + ":1: a config file must be a map of 'key: value'");
      }
      Result<std::vector<ConfigSetting>> settings =
          ConfigSettingsFromYaml(root, display_path);
      if (!settings.ok()) return settings.status();
      Status s = config.Apply(*settings);
      if (!s.ok()) return s;
    }
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(display_path + ":" +
                                   std::to_string(e.mark.line + 1) +
                                   ": invalid YAML: " + e.msg);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(display_path + ": " + e.what());
  }
  Status s = ApplyDynamicProperties(dynamic_properties, &config);
  if (!s.ok()) return s;
  return config;
}

Result<Config> LayerConfig(const ConfigFile& file,
                           const std::vector<ConfigSetting>& job_settings,
                           const std::vector<std::string>& dynamic_properties) {
  Config config = file.config;
  Status s = config.Apply(job_settings);
  if (s.ok()) s = ApplyDynamicProperties(dynamic_properties, &config);
  if (!s.ok()) return s;
  return config;
}

std::string ConfigFilePath(const char* weir_conf_dir) {
  if (weir_conf_dir != nullptr && weir_conf_dir[0] != '\0') {
    std::string dir(weir_conf_dir);
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    return dir + "/config.yaml";
  }
  return "/etc/weir/config.yaml";
}

Result<ConfigFile> LoadConfigFile(
    const std::optional<std::string>& explicit_path) {
  return LoadConfigFile(explicit_path, std::getenv("WEIR_CONF_DIR"));
}

Result<ConfigFile> LoadConfigFile(
    const std::optional<std::string>& explicit_path,
    const char* weir_conf_dir) {
  // A configuration file is a few dozen lines.
  constexpr uint64_t kMaxConfigBytes = 1 << 20;
  std::string path;
  if (explicit_path) {
    if (explicit_path->empty()) {
      return Status::InvalidArgument("-c needs a configuration file");
    }
    path = *explicit_path;
  } else {
    if (weir_conf_dir != nullptr && weir_conf_dir[0] != '\0') {
      struct stat st;
      if (::stat(weir_conf_dir, &st) != 0) {
        return Status::InvalidArgument(
            "WEIR_CONF_DIR=" + std::string(weir_conf_dir) +
            ": cannot use it as the configuration directory: " +
            std::strerror(errno));
      }
      if (!S_ISDIR(st.st_mode)) {
        return Status::InvalidArgument(
            "WEIR_CONF_DIR=" + std::string(weir_conf_dir) +
            ": not a directory (it names the directory of config.yaml)");
      }
    }
    path = ConfigFilePath(weir_conf_dir);
  }
  ConfigFile out;
  Result<std::string> text = ReadFileToString(path, kMaxConfigBytes);
  if (!text.ok()) {
    if (!explicit_path && text.status().IsNotFound()) return out;
    return text.status().WithContext("cannot read configuration file " + path);
  }
  Result<Config> config = LoadConfigString(*text, path, {});
  if (!config.ok()) return config.status();
  out.config = std::move(config).value();
  out.path = path;
  return out;
}

Result<Config> LoadConfig(const std::optional<std::string>& path,
                          const std::vector<std::string>& dynamic_properties) {
  if (!path) return LoadConfigString("", "", dynamic_properties);
  Result<std::string> text = ReadFileToString(*path);
  if (!text.ok()) {
    return text.status().WithContext("cannot read config file " + *path);
  }
  return LoadConfigString(*text, *path, dynamic_properties);
}

}  // namespace weir::tools
