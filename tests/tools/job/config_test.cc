// SPDX-License-Identifier: Apache-2.0
#include "tools/job/config.h"

#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testutil/status_matchers.h"
#include "tests/testutil/temp_dir.h"

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

}  // namespace
}  // namespace weir::tools
