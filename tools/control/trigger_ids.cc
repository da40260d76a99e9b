// SPDX-License-Identifier: Apache-2.0
#include "tools/control/trigger_ids.h"

#include <exception>
#include <utility>

#include <weir/job_info.h>

namespace weir::tools {

std::string NewTriggerId() {
  // 16 random bytes in hex, as a JobId (and Flink's TriggerId) has them.
  return JobId::Generate().ToHex();
}

bool IsTriggerId(std::string_view text) {
  if (text.size() != 32) return false;
  for (char c : text) {
    const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
                     (c >= 'A' && c <= 'F');
    if (!hex) return false;
  }
  return true;
}

std::string NormalizeTriggerId(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

Result<std::optional<std::string>> TriggerIdField(const nlohmann::json& body) {
  auto it = body.find("triggerId");
  if (it == body.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) {
    return Status::InvalidArgument(
        "triggerId is not a string (a trigger id is 32 hex digits)");
  }
  const std::string& text = it->get_ref<const std::string&>();
  if (!IsTriggerId(text)) {
    // The value may be anything: quote at most a little of it.
    std::string shown = text.size() > 40 ? text.substr(0, 40) + "..." : text;
    return Status::InvalidArgument("triggerId '" + shown +
                                   "' is not a trigger id (32 hex digits)");
  }
  return std::optional<std::string>(NormalizeTriggerId(text));
}

TriggerRegistry::TriggerRegistry(size_t capacity)
    : capacity_(capacity == 0 ? 1 : capacity) {}

Result<int64_t> TriggerRegistry::Trigger(
    const std::string& key, const std::function<Result<int64_t>()>& trigger) {
  std::shared_ptr<Entry> entry;
  {
    std::unique_lock<std::mutex> lock(mu_);
    auto it = entries_.find(key);
    if (it != entries_.end()) {
      // Known, or being triggered by another request: its outcome.
      const std::shared_ptr<Entry> known = it->second;
      cv_.wait(lock, [&known] { return known->done; });
      if (!known->failed.ok()) return known->failed;
      return known->id;
    }
    entry = std::make_shared<Entry>();
    entries_.emplace(key, entry);
  }
  Result<int64_t> outcome = Status::Aborted("the trigger did not run");
  try {
    outcome = trigger();
  } catch (const std::exception& e) {
    outcome = Status::Aborted(std::string("the trigger failed: ") + e.what());
  } catch (...) {
    outcome = Status::Aborted("the trigger failed");
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    entry->done = true;
    if (outcome.ok()) {
      entry->id = *outcome;
      done_order_.push_back(key);
      while (done_order_.size() > capacity_) {
        entries_.erase(done_order_.front());
        done_order_.pop_front();
      }
    } else {
      entry->failed = outcome.status();
      entries_.erase(key);
    }
  }
  cv_.notify_all();
  return outcome;
}

std::optional<int64_t> TriggerRegistry::Find(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || !it->second->done || !it->second->failed.ok()) {
    return std::nullopt;
  }
  return it->second->id;
}

}  // namespace weir::tools
