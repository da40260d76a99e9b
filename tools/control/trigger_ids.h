// SPDX-License-Identifier: Apache-2.0
//
// Trigger ids of the REST endpoint's asynchronous operations (savepoints,
// stops with a savepoint, checkpoints, savepoint disposals), as Flink's
// TriggerId: 32 hex digits. A client may choose the id itself (the body's
// "triggerId", rest_v1_dispatcher.yml), which makes the trigger idempotent:
// a repeat with the same id, while the operation runs or after it ended,
// answers that id and triggers nothing. Without one the server draws a
// random id. Either way the client polls the operation with it.
//
// TriggerRegistry maps the trigger ids of one kind of operation to what
// they triggered (a checkpoint id). Thread-safe; nothing here throws.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include <weir/result.h>

namespace weir::tools {

// A new random trigger id: 32 lower-case hex digits.
std::string NewTriggerId();

// True if `text` is 32 hex digits (either case).
bool IsTriggerId(std::string_view text);

// `text` in lower case, the form trigger ids are kept and answered in.
std::string NormalizeTriggerId(std::string_view text);

// The "triggerId" field of the request body `body` (a JSON object): nullopt
// if it is absent or null, else the id in lower case. InvalidArgument that
// names the field (and the value) if it is not a string of 32 hex digits.
Result<std::optional<std::string>> TriggerIdField(const nlohmann::json& body);

class TriggerRegistry {
 public:
  // Keeps the ids of the last `capacity` operations that were triggered
  // (older ones are forgotten: Find() no longer knows them, and a repeat
  // triggers again).
  explicit TriggerRegistry(size_t capacity = 1024);
  TriggerRegistry(const TriggerRegistry&) = delete;
  TriggerRegistry& operator=(const TriggerRegistry&) = delete;

  // The operation `key` names (the kind of operation, the job and the
  // trigger id, as the caller composes them): if `key` is known, its
  // operation id, without calling `trigger`; if another request is
  // triggering it right now, waits for that and answers what it got.
  // Otherwise calls `trigger` (without holding a lock: it may block) and
  // remembers the id it returns. A trigger that fails is not remembered:
  // its error goes to this caller and to those that waited for it, and a
  // later request with the same key triggers again.
  Result<int64_t> Trigger(const std::string& key,
                          const std::function<Result<int64_t>()>& trigger);

  // The operation id of `key`, or nullopt if it was never triggered (or
  // failed to trigger, or is forgotten, or is being triggered right now).
  std::optional<int64_t> Find(const std::string& key) const;

 private:
  struct Entry {
    bool done = false;
    Status failed;  // when done: why the trigger failed, or OK
    int64_t id = 0;
  };

  const size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::shared_ptr<Entry>> entries_;  // guarded by mu_
  std::deque<std::string> done_order_;  // remembered keys, oldest first
};

}  // namespace weir::tools
