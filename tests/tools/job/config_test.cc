// SPDX-License-Identifier: Apache-2.0
#include "tools/job/config.h"

#include <filesystem>
#include <fstream>
#include <yaml-cpp/yaml.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testutil/status_matchers.h"
#include "tests/testutil/temp_dir.h"
#include "tools/job/job_spec.h"

namespace weir::tools {
namespace {

using testing::HasSubstr;
using testing::StartsWith;
using testutil::StatusIs;

TEST(Config, Defaults) {
  ASSERT_OK_AND_ASSIGN(Config config, LoadConfig(std::nullopt, {}));
  EXPECT_EQ(config.GetInt("parallelism.default"), 1);
  EXPECT_EQ(config.GetString("state.backend.type"), "rocksdb");
  EXPECT_EQ(config.GetString("state.backend.local-dir"), "");
  EXPECT_EQ(config.GetInt("rest.port"), 8081);
  EXPECT_EQ(config.GetString("rest.address"), "127.0.0.1");
  EXPECT_EQ(config.GetDurationMs("rest.archive-linger"), 3000);
  EXPECT_EQ(config.GetInt("pipeline.max-parallelism"), 128);
  EXPECT_EQ(config.GetDurationMs("pipeline.auto-watermark-interval"), 200);
  EXPECT_EQ(config.GetDurationMs("execution.checkpointing.interval"),
            std::nullopt);
  EXPECT_EQ(config.GetString("execution.checkpointing.dir"), std::nullopt);
  EXPECT_EQ(config.GetString("state.savepoints.dir"), std::nullopt);
  EXPECT_EQ(config.GetInt("execution.checkpointing.num-retained"), 1);
  EXPECT_EQ(config.GetBool("state.backend.incremental"), true);
  EXPECT_FALSE(config.IsSet("rest.port"));
}

TEST(Config, EveryKnownKeyHasADescriptionAndAValidDefault) {
  for (const ConfigKey& key : KnownConfigKeys()) {
    EXPECT_FALSE(key.description.empty()) << key.key;
    if (key.default_value) {
      Config config;
      EXPECT_OK(config.Set(key.key, *key.default_value)) << key.key;
    }
  }
}

TEST(Config, FileThenDynamicProperties) {
  ASSERT_OK_AND_ASSIGN(
      Config config,
      LoadConfigString("rest.port: 0\n"
                       "state.backend.type: hashmap\n"
                       "execution.checkpointing.interval: 10s\n"
                       "state.checkpoints.dir: /tmp/chk\n",
                       "conf.yaml",
                       {"rest.port=9000", "-Dstate.backend.incremental=false",
                        "state.checkpoints.num-retained = 3"}));
  EXPECT_EQ(config.GetInt("rest.port"), 9000);  // -D wins over the file
  EXPECT_EQ(config.GetString("state.backend.type"), "hashmap");
  EXPECT_EQ(config.GetDurationMs("execution.checkpointing.interval"), 10000);
  // The alias and the canonical key are one setting.
  EXPECT_EQ(config.GetString("execution.checkpointing.dir"), "/tmp/chk");
  EXPECT_EQ(config.GetString("state.checkpoints.dir"), "/tmp/chk");
  EXPECT_TRUE(config.IsSet("execution.checkpointing.dir"));
  EXPECT_EQ(config.GetBool("state.backend.incremental"), false);
  EXPECT_EQ(config.GetInt("execution.checkpointing.num-retained"), 3);
  EXPECT_EQ(config.EffectiveValues().at("execution.checkpointing.interval"),
            "10s");
  EXPECT_EQ(config.EffectiveValues().count("state.savepoints.dir"), 0u);
}

TEST(Config, CheckpointAndRestartKeys) {
  ASSERT_OK_AND_ASSIGN(Config defaults, LoadConfig(std::nullopt, {}));
  EXPECT_EQ(defaults.GetDurationMs("execution.checkpointing.timeout"),
            10 * 60 * 1000);
  EXPECT_EQ(defaults.GetDurationMs("execution.checkpointing.min-pause"), 0);
  EXPECT_EQ(
      defaults.GetInt("execution.checkpointing.max-concurrent-checkpoints"), 1);
  EXPECT_EQ(defaults.GetBool("execution.checkpointing.incremental"), true);
  EXPECT_EQ(defaults.GetString("restart-strategy.type"), "none");
  EXPECT_EQ(defaults.GetInt("restart-strategy.fixed-delay.attempts"), 1);
  EXPECT_EQ(defaults.GetDurationMs("restart-strategy.fixed-delay.delay"), 1000);

  ASSERT_OK_AND_ASSIGN(
      Config config,
      LoadConfigString("execution.checkpointing:\n"
                       "  timeout: 30s\n"
                       "  min-pause: 50ms\n"
                       "  max-concurrent-checkpoints: 2\n"
                       "state.backend.incremental: false\n"
                       "restart-strategy: fixed-delay\n"
                       "restart-strategy.fixed-delay.attempts: 5\n"
                       "restart-strategy.fixed-delay.delay: 2s\n",
                       "c.yaml", {}));
  EXPECT_EQ(config.GetDurationMs("execution.checkpointing.timeout"), 30000);
  EXPECT_EQ(config.GetDurationMs("execution.checkpointing.min-pause"), 50);
  EXPECT_EQ(config.GetInt("execution.checkpointing.max-concurrent-checkpoints"),
            2);
  // state.backend.incremental is the older name (Flink < 1.20).
  EXPECT_EQ(config.GetBool("execution.checkpointing.incremental"), false);
  EXPECT_EQ(config.GetString("restart-strategy.type"), "fixed-delay");
  EXPECT_EQ(config.GetInt("restart-strategy.fixed-delay.attempts"), 5);
  EXPECT_EQ(config.GetDurationMs("restart-strategy.fixed-delay.delay"), 2000);

  EXPECT_THAT(
      LoadConfigString("restart-strategy.type: failure-rate\n", "c.yaml", {}),
      StatusIs(Status::Code::kInvalidArgument,
               AllOf(StartsWith("c.yaml:1: restart-strategy.type"),
                     HasSubstr("is not one of none"))));
  EXPECT_THAT(LoadConfigString(
                  "", "c.yaml",
                  {"execution.checkpointing.max-concurrent-checkpoints=0"}),
              StatusIs(Status::Code::kInvalidArgument,
                       HasSubstr("out of range (1..1000)")));
  EXPECT_THAT(
      LoadConfigString("", "c.yaml", {"execution.checkpointing.timeout=0"}),
      StatusIs(Status::Code::kInvalidArgument,
               HasSubstr("must be at least 1ms")));
  EXPECT_THAT(
      LoadConfigString("", "c.yaml",
                       {"restart-strategy.fixed-delay.attempts=-1"}),
      StatusIs(Status::Code::kInvalidArgument, HasSubstr("out of range")));
  EXPECT_THAT(LoadConfigString("state.backend.incremental: true\n"
                               "execution.checkpointing.incremental: false\n",
                               "c.yaml", {}),
              StatusIs(Status::Code::kInvalidArgument, HasSubstr("set twice")));
}

TEST(Config, NestedMapsAreFlattened) {
  ASSERT_OK_AND_ASSIGN(Config config,
                       LoadConfigString("rest:\n  port: 0\n  address: 0.0.0.0\n"
                                        "state: {backend: {type: hashmap}}\n",
                                        "conf.yaml", {}));
  EXPECT_EQ(config.GetInt("rest.port"), 0);
  EXPECT_EQ(config.GetString("rest.address"), "0.0.0.0");
  EXPECT_EQ(config.GetString("state.backend.type"), "hashmap");
}

TEST(Config, UnknownKeySuggestsTheClosest) {
  EXPECT_THAT(
      LoadConfigString("rest.address: x\nrest.prot: 1\n", "conf.yaml", {}),
      StatusIs(Status::Code::kInvalidArgument,
               "conf.yaml:2: unknown config key 'rest.prot' (did you "
               "mean 'rest.port'?)"));
  EXPECT_THAT(LoadConfigString("rest:\n  prot: 1\n", "conf.yaml", {}),
              StatusIs(Status::Code::kInvalidArgument,
                       StartsWith("conf.yaml:2: unknown config key "
                                  "'rest.prot' (did you mean")));
  EXPECT_THAT(LoadConfigString("", "conf.yaml", {"colour=blue"}),
              StatusIs(Status::Code::kInvalidArgument,
                       "-D colour=blue: unknown config key 'colour'"));
}

TEST(Config, BadValues) {
  EXPECT_THAT(LoadConfigString("\nrest.port: 70000\n", "conf.yaml", {}),
              StatusIs(Status::Code::kInvalidArgument,
                       AllOf(StartsWith("conf.yaml:2: rest.port"),
                             HasSubstr("out of range (0..65535)"))));
  EXPECT_THAT(LoadConfigString("rest.port: http\n", "conf.yaml", {}),
              StatusIs(Status::Code::kInvalidArgument,
                       HasSubstr("'http' is not an integer")));
  EXPECT_THAT(LoadConfigString("state.backend.type: leveldb\n", "c.yaml", {}),
              StatusIs(Status::Code::kInvalidArgument,
                       HasSubstr("is not one of rocksdb, hashmap")));
  EXPECT_THAT(
      LoadConfigString("state.backend.incremental: maybe\n", "c.yaml", {}),
      StatusIs(Status::Code::kInvalidArgument,
               HasSubstr("is not true or false")));
  EXPECT_THAT(
      LoadConfigString("", "c.yaml", {"pipeline.auto-watermark-interval=fast"}),
      StatusIs(Status::Code::kInvalidArgument,
               AllOf(StartsWith("-D pipeline.auto-watermark-interval="
                                "fast: "),
                     HasSubstr("invalid duration 'fast'"))));
  EXPECT_THAT(
      LoadConfigString("", "c.yaml", {"execution.checkpointing.interval=0"}),
      StatusIs(Status::Code::kInvalidArgument,
               HasSubstr("must be at least 1ms")));
  EXPECT_THAT(LoadConfigString("", "c.yaml", {"rest.port"}),
              StatusIs(Status::Code::kInvalidArgument,
                       "-D rest.port: expected key=value"));
  EXPECT_THAT(LoadConfigString("rest.port:\n", "c.yaml", {}),
              StatusIs(Status::Code::kInvalidArgument,
                       "c.yaml:1: rest.port: no value"));
  EXPECT_THAT(
      LoadConfigString("rest.port: [1]\n", "c.yaml", {}),
      StatusIs(Status::Code::kInvalidArgument, HasSubstr("single value")));
  EXPECT_THAT(
      LoadConfigString("- a\n", "c.yaml", {}),
      StatusIs(Status::Code::kInvalidArgument, HasSubstr("must be a map")));
  EXPECT_THAT(
      LoadConfigString("a: [\n", "c.yaml", {}),
      StatusIs(Status::Code::kInvalidArgument,
               AllOf(StartsWith("c.yaml:"), HasSubstr("invalid YAML"))));
}

TEST(Config, KeySetTwiceInTheFile) {
  EXPECT_THAT(
      LoadConfigString("rest.port: 1\nrest:\n  port: 2\n", "c.yaml", {}),
      StatusIs(Status::Code::kInvalidArgument,
               "c.yaml:3: 'rest.port' is set twice (also on line 1)"));
  EXPECT_THAT(LoadConfigString("state.checkpoints.dir: /a\n"
                               "execution.checkpointing.dir: /b\n",
                               "c.yaml", {}),
              StatusIs(Status::Code::kInvalidArgument,
                       HasSubstr("c.yaml:2: 'execution.checkpointing.dir' is "
                                 "set twice")));
}

TEST(Config, LoadConfigReadsAFile) {
  testutil::TestDir dir;
  dir.Create();
  const std::string path = dir.Sub("weir.yaml");
  std::ofstream(path) << "# weir\nparallelism.default: 4\n";
  ASSERT_OK_AND_ASSIGN(Config config, LoadConfig(path, {}));
  EXPECT_EQ(config.GetInt("parallelism.default"), 4);
  EXPECT_TRUE(config.IsSet("parallelism.default"));
  EXPECT_THAT(LoadConfig(dir.Sub("missing.yaml"), {}),
              StatusIs(Status::Code::kNotFound, HasSubstr("missing.yaml")));
}

TEST(ConfigFile, LocationFollowsWeirConfDir) {
  EXPECT_EQ(ConfigFilePath(nullptr), "/etc/weir/config.yaml");
  EXPECT_EQ(ConfigFilePath(""), "/etc/weir/config.yaml");
  EXPECT_EQ(ConfigFilePath("/opt/weir/conf"), "/opt/weir/conf/config.yaml");
  EXPECT_EQ(ConfigFilePath("/opt/weir/conf/"), "/opt/weir/conf/config.yaml");
}

TEST(ConfigFile, ReadFromWeirConfDir) {
  testutil::TestDir dir;
  dir.Create();
  std::ofstream(dir.Sub("config.yaml"))
      << "rest.port: 9091\n"
         "execution.checkpointing.dir: /var/lib/weir/checkpoints\n";
  ASSERT_OK_AND_ASSIGN(ConfigFile file,
                       LoadConfigFile(std::nullopt, dir.path().c_str()));
  EXPECT_EQ(file.path, dir.Sub("config.yaml"));
  EXPECT_EQ(file.config.GetInt("rest.port"), 9091);
  EXPECT_EQ(file.config.GetString("execution.checkpointing.dir"),
            "/var/lib/weir/checkpoints");
}

TEST(ConfigFile, AMissingFileIsNoFile) {
  testutil::TestDir dir;
  dir.Create();
  // WEIR_CONF_DIR exists but holds no config.yaml: the defaults.
  ASSERT_OK_AND_ASSIGN(ConfigFile file,
                       LoadConfigFile(std::nullopt, dir.path().c_str()));
  EXPECT_EQ(file.path, std::nullopt);
  EXPECT_FALSE(file.config.IsSet("rest.port"));
  EXPECT_EQ(file.config.GetInt("rest.port"), 8081);
}

TEST(ConfigFile, AMissingWeirConfDirIsAnError) {
  testutil::TestDir dir;
  dir.Create();
  const std::string missing = dir.Sub("nope");
  EXPECT_THAT(LoadConfigFile(std::nullopt, missing.c_str()),
              StatusIs(Status::Code::kInvalidArgument,
                       HasSubstr("WEIR_CONF_DIR=" + missing + ": ")));
  std::ofstream(dir.Sub("file")) << "";
  EXPECT_THAT(
      LoadConfigFile(std::nullopt, dir.Sub("file").c_str()),
      StatusIs(Status::Code::kInvalidArgument, HasSubstr("not a directory")));
}

TEST(ConfigFile, MalformedFilesAndUnknownKeysAreErrors) {
  testutil::TestDir dir;
  dir.Create();
  const std::string path = dir.Sub("config.yaml");
  std::ofstream(path) << "rest.prot: 1\n";
  EXPECT_THAT(LoadConfigFile(std::nullopt, dir.path().c_str()),
              StatusIs(Status::Code::kInvalidArgument,
                       path + ":1: unknown config key 'rest.prot' (did you "
                              "mean 'rest.port'?)"));
  std::ofstream(path) << "rest: [1, 2\n";
  EXPECT_THAT(LoadConfigFile(std::nullopt, dir.path().c_str()),
              StatusIs(Status::Code::kInvalidArgument, HasSubstr(path + ":")));
  // Not a regular file: a directory named config.yaml.
  std::filesystem::remove(path);
  std::filesystem::create_directory(path);
  EXPECT_THAT(LoadConfigFile(std::nullopt, dir.path().c_str()),
              StatusIs(Status::Code::kInvalidArgument,
                       HasSubstr("cannot read configuration file " + path)));
  // Larger than 1 MiB: refused without reading it all.
  std::filesystem::remove(path);
  std::ofstream(path) << "# " << std::string(1 << 20, 'x') << "\n";
  EXPECT_THAT(LoadConfigFile(std::nullopt, dir.path().c_str()),
              StatusIs(Status::Code::kInvalidArgument, HasSubstr(path)));
}

TEST(ConfigFile, AnExplicitFileReplacesTheDefaultOneAndMustExist) {
  testutil::TestDir dir;
  dir.Create();
  std::ofstream(dir.Sub("config.yaml")) << "rest.port: 1\n";
  std::ofstream(dir.Sub("job-conf.yaml")) << "parallelism.default: 3\n";
  ASSERT_OK_AND_ASSIGN(ConfigFile file, LoadConfigFile(dir.Sub("job-conf.yaml"),
                                                       dir.path().c_str()));
  EXPECT_EQ(file.path, dir.Sub("job-conf.yaml"));
  EXPECT_EQ(file.config.GetInt("parallelism.default"), 3);
  EXPECT_FALSE(file.config.IsSet("rest.port"));
  EXPECT_THAT(LoadConfigFile(dir.Sub("missing.yaml"), dir.path().c_str()),
              StatusIs(Status::Code::kNotFound, HasSubstr("missing.yaml")));
}

// Command line over the job file's `config:` over the configuration file
// over the defaults.
TEST(ConfigFile, Precedence) {
  ConfigFile file;
  file.path = "/etc/weir/config.yaml";
  ASSERT_OK(file.config.Set("rest.port", "1000"));
  ASSERT_OK(file.config.Set("rest.address", "0.0.0.0"));
  ASSERT_OK(file.config.Set("execution.stop-on-signal", "savepoint"));
  ASSERT_OK(file.config.Set("state.checkpoints.dir", "/file"));
  const std::vector<ConfigSetting> job = {
      {"rest.port", "2000", 3},
      {"execution.checkpointing.dir", "/job", 4},
      {"parallelism.default", "2", 5},
  };
  ASSERT_OK_AND_ASSIGN(
      Config config,
      LayerConfig(file, job, {"parallelism.default=3", "rest.port=3000"}));
  EXPECT_EQ(config.GetInt("rest.port"), 3000);         // -D
  EXPECT_EQ(config.GetInt("parallelism.default"), 3);  // -D
  EXPECT_EQ(config.GetString("execution.checkpointing.dir"), "/job");
  EXPECT_EQ(config.GetString("rest.address"), "0.0.0.0");  // the file
  EXPECT_EQ(config.GetString("execution.stop-on-signal"), "savepoint");
  EXPECT_EQ(config.GetInt("pipeline.max-parallelism"), 128);  // default

  ASSERT_OK_AND_ASSIGN(config, LayerConfig(file, job, {}));
  EXPECT_EQ(config.GetInt("rest.port"), 2000);
  EXPECT_EQ(config.GetInt("parallelism.default"), 2);

  EXPECT_THAT(
      LayerConfig(file, job, {"rest.port=x"}),
      StatusIs(Status::Code::kInvalidArgument, HasSubstr("-D rest.port=x: ")));
}

// The example configuration that docs/deploy.md installs as
// /etc/weir/config.yaml, and the example job of weir@sums.
TEST(ConfigFile, TheExamplesAreValid) {
  const std::string dir = std::string(WEIR_SOURCE_ROOT) + "/examples/config";
  ASSERT_OK_AND_ASSIGN(ConfigFile file,
                       LoadConfigFile(std::nullopt, dir.c_str()));
  EXPECT_EQ(file.config.GetString("execution.stop-on-signal"), "savepoint");
  EXPECT_EQ(file.config.GetString("execution.checkpointing.dir"),
            "/var/lib/weir/checkpoints");
  EXPECT_TRUE(file.config.IsSet("rest.port"));
  ASSERT_OK_AND_ASSIGN(JobSpec job, ParseJobFile(dir + "/jobs/sums.yaml"));
  EXPECT_EQ(job.name, "sums");
}

TEST(ConfigSettings, AYamlMapIsCheckedAndCanonical) {
  YAML::Node node = YAML::Load(
      "state.checkpoints.dir: /c\nrest:\n  port: 0\n"
      "execution.checkpointing.interval: 10000\n");
  ASSERT_OK_AND_ASSIGN(std::vector<ConfigSetting> settings,
                       ConfigSettingsFromYaml(node, "job.yaml"));
  ASSERT_EQ(settings.size(), 3u);
  EXPECT_EQ(settings[0].key, "execution.checkpointing.dir");  // not the alias
  EXPECT_EQ(settings[0].value, "/c");
  EXPECT_EQ(settings[0].line, 1);
  EXPECT_EQ(settings[1].key, "rest.port");
  EXPECT_EQ(settings[1].line, 3);
  EXPECT_EQ(settings[2].value, "10s");  // normalized
  EXPECT_THAT(
      ConfigSettingsFromYaml(YAML::Load("a: 1\nrest.port: x\n"), "job.yaml"),
      StatusIs(Status::Code::kInvalidArgument,
               HasSubstr("job.yaml:1: unknown config key 'a'")));
}

}  // namespace
}  // namespace weir::tools
