// SPDX-License-Identifier: Apache-2.0
//
// A request to the REST endpoint and its answer, as the HTTP transport
// (http_server.h) hands them to RestServer (rest_server.h) and back.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace weir::tools {

struct RestRequest {
  std::string method;  // "GET", "POST", "PATCH", "PUT", "DELETE"
  std::string path;    // decoded, without the query
  // The values of the pattern's ":name" segments, by name without the colon.
  std::map<std::string, std::string> path_params;
  // Query parameters; the last value wins if one is repeated.
  std::map<std::string, std::string> query;
  std::string body;
  // Header fields by lower-case name ("authorization"); the last value wins
  // if one is repeated.
  std::map<std::string, std::string> headers = {};
};

struct RestResponse {
  int status = 200;
  std::string body;  // JSON text, unless content_type says otherwise
  std::string content_type = "application/json";
  // More header fields, e.g. {"WWW-Authenticate", "Bearer"}.
  std::vector<std::pair<std::string, std::string>> headers = {};
};

using RestHandler = std::function<RestResponse(const RestRequest&)>;

}  // namespace weir::tools
