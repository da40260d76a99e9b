// SPDX-License-Identifier: Apache-2.0
//
// Queryable state of YAML jobs: the running aggregates (count, sum, min,
// max) keep, per key, a Row holding the aggregate in the keyed value
// state named after their kind; GET /jobs/:jobid/state/:uid reads it
// through Job::QueryState.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include <weir/job.h>
#include <weir/result.h>

#include "tools/job/job_spec.h"

namespace weir::tools {

// {"key": KEY, "value": <the aggregate>} for `key` (text, parsed as the
// key field's type) of the aggregate with uid `uid`; the value is a JSON
// number, string or bool as the aggregate's type. NotFound if the job has
// no aggregate with that uid or the key has no value; InvalidArgument if
// `key` is not of the key field's type; FailedPrecondition if the job is
// not running; DeadlineExceeded if the task does not answer in 5 s.
Result<nlohmann::json> QueryAggregate(Job& job, const JobSpec& spec,
                                      const std::string& uid,
                                      const std::string& key);

}  // namespace weir::tools
