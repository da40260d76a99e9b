// SPDX-License-Identifier: Apache-2.0
//
// Turns a parsed job file (tools/job/job_spec.h) into an engine job of rows:
// each operator of the file becomes one engine operator with the file's uid
// (so state maps to it across runs), name and parallelism.
#pragma once

#include <memory>
#include <string>

#include <weir/job.h>
#include <weir/stream.h>

#include "tools/job/config.h"
#include "tools/job/job_spec.h"

namespace weir::tools {

struct PlanOverrides {
  // `weir run -p N`; 0 if not given.
  int parallelism = 0;
};

// Parallelism, most specific first: the operator's `parallelism`, then
// `-p`, then the job file's `parallelism`, then `parallelism.default`. Max
// parallelism: the job file's, then `pipeline.max-parallelism`.
Result<JobBuilder> PlanJob(const JobSpec& spec, const Config& config,
                           const PlanOverrides& overrides);

// The job's default parallelism, as PlanJob takes it: `-p`, then the job
// file's `parallelism`, then `parallelism.default`.
int JobParallelism(const JobSpec& spec, const Config& config,
                   const PlanOverrides& overrides);

// Engine options from the configuration: the state backend (type, local
// dir), checkpoints (execution.checkpointing.*) and the restart strategy
// (restart-strategy.*). InvalidArgument for a periodic interval without a
// checkpoint directory.
Result<JobOptions> JobOptionsFromConfig(const Config& config);

// The state.backend.rocksdb.* keys of `config`, over `*options` (the keys
// all have defaults, so every field they name is set).
Status RocksDBOptionsFromConfig(const Config& config, RocksDBOptions* options);

}  // namespace weir::tools
