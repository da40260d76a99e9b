// SPDX-License-Identifier: Apache-2.0
//
// JobLocator: how the commands that act on a running job (`weir cancel`,
// `stop`, `savepoint`, `checkpoint`) find its REST endpoint:
//
//   1. -m host:port, when given;
//   2. else the job's entry in this host's registry (job_registry.h);
//   3. else the endpoint the configuration file names (rest.address and
//      rest.port, when the file sets rest.port to a port other than 0): a
//      job that runs as a service, under another user, is in a registry
//      that the caller does not read.
//
// A value; safe to use from any thread.
#pragma once

#include <optional>
#include <string>

#include <weir/job_info.h>
#include <weir/result.h>

#include "tools/control/job_registry.h"

namespace weir::tools {

struct JobLocator {
  std::optional<std::string> endpoint;  // -m host:port
  std::optional<HostPort> configured;   // from the configuration file
  std::string configured_from;          // that file, for messages
};

// The endpoint of job `id` as above. Errors: a malformed -m; the
// registry's NotFound ("no running job <id> on this host (looked in
// <dir>)") when nothing is configured either.
Result<HostPort> LocateJob(const JobId& id, const JobLocator& locator);

// The endpoint a client reaches for a server that listens on `address`
// and `port`: a wildcard address ("", "0.0.0.0", "::", "[::]") becomes
// loopback. nullopt for port 0 (any free port: nothing to reach).
std::optional<HostPort> ClientEndpoint(const std::string& address, int port);

}  // namespace weir::tools
