// SPDX-License-Identifier: Apache-2.0
//
// The REST endpoint's informational routes, and the shutdown of a `weir
// run` whose jobs have ended (info_json.h has the bodies):
//
//   GET    /overview                        the cluster overview
//   GET    /jobs/:jobid/config              the job's execution config
//   GET    /jobs/:jobid/exceptions          its failures, newest first
//                                           (?maxExceptions=N, default 20)
//   GET    /jobs/:jobid/checkpoints/config  its checkpointing settings
//   GET    /jobs/:jobid/state/:uid?key=KEY  {"key": KEY, "value": ...}: the
//                                           key's value in the operator's
//                                           state (JobDirectory::QueryState);
//                                           404 if it has none
//   DELETE /cluster                         ends the process's wait for
//                                           clients once every job ended
//                                           (JobDirectory::Shutdown)
//
// An unknown or malformed job id is 404; a bad query value 400. The
// handlers validate what they read and throw nothing.
#pragma once

#include "tools/control/rest_server.h"

namespace weir::tools {

// Adds the routes above to `server`, answering from `jobs` (which must
// outlive it).
void AddInfoRoutes(RestServer& server, JobDirectory* jobs);

}  // namespace weir::tools
