// SPDX-License-Identifier: Apache-2.0
#include "tools/control/job_locator.h"

#include "tools/log/log.h"

namespace weir::tools {

Result<HostPort> LocateJob(const JobId& id, const JobLocator& locator) {
  if (locator.endpoint) return ParseHostPort(*locator.endpoint);
  Result<JobRegistry> registry = JobRegistry::OpenDefault();
  if (!registry.ok() && !locator.configured) return registry.status();
  Status missing = registry.status();
  if (registry.ok()) {
    Result<RegistryEntry> entry = registry->Find(id);
    if (entry.ok()) {
      log::Debug("job " + id.ToHex() + " is in the registry " +
                 registry->dir() + ": REST endpoint " + entry->rest_address +
                 ":" + std::to_string(entry->rest_port));
      return HostPort{entry->rest_address, entry->rest_port};
    }
    missing = entry.status();
  }
  if (!locator.configured) return missing;
  log::Debug(std::string(missing.message()) + "; asking " +
             locator.configured->host + ":" +
             std::to_string(locator.configured->port) + " (rest.address and " +
             "rest.port of " + locator.configured_from + ")");
  return *locator.configured;
}

std::optional<HostPort> ClientEndpoint(const std::string& address, int port) {
  if (port <= 0 || port > 65535) return std::nullopt;
  std::string host = address;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  return HostPort{host, port};
}

}  // namespace weir::tools
