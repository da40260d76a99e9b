// SPDX-License-Identifier: Apache-2.0
//
// The keyed states of the memory backend. Each state keeps one hash map per
// key group of its backend's range, keyed by [varint len][key][namespace]
// (value states: a FlatTable, memory_value_state.cc).
// Entries remember their write time when the state has a TTL.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <weir/clock.h>
#include <weir/raw_state.h>

#include "backends/backend.h"
#include "backends/common/state_registry.h"
#include "backends/memory/memory_key.h"

namespace weir::internal {

struct MemEntry {
  std::string bytes;
  int64_t ts = 0;
};

class MemState {
 public:
  MemState(const RawStateDescriptor& d, const MemKey* key, const Clock* clock)
      : descriptor_(d), key_(key), clock_(clock) {}
  virtual ~MemState() = default;

  const RawStateDescriptor& descriptor() const { return descriptor_; }
  void set_descriptor(const RawStateDescriptor& d) { descriptor_ = d; }

  virtual Status ForEachEntry(int slot, const StateEntryVisitor& visitor) = 0;
  virtual Status ForEachKey(
      const std::function<Status(std::string_view, std::string_view)>&
          visitor) = 0;
  // `composite` is [len][key][ns] of the entry's key.
  virtual Status Import(int slot, const std::string& composite,
                        const StateEntry& entry) = 0;

 protected:
  // Now, or 0 when the state has no TTL (so hot paths skip the clock).
  int64_t Now() const {
    return descriptor_.ttl.enabled() ? clock_->NowMillis() : 0;
  }
  bool Live(const MemEntry& e, int64_t now) const {
    return !IsExpired(descriptor_.ttl, e.ts, now);
  }
  bool RefreshOnRead() const {
    return descriptor_.ttl.enabled() &&
           descriptor_.ttl.update_type ==
               StateTtlConfig::UpdateType::kOnReadAndWrite;
  }
  const std::string& Composite(std::string_view ns) {
    buf_.assign(key_->encoded());
    buf_.append(ns);
    return buf_;
  }
  int slot() const { return key_->slot(); }

  RawStateDescriptor descriptor_;
  const MemKey* key_;
  const Clock* clock_;
  std::string buf_;
};

// The value state (value, reducing, aggregating), in memory_value_state.cc.
std::unique_ptr<MemState> NewMemValueState(const RawStateDescriptor& d,
                                           int num_slots, const MemKey* key,
                                           const Clock* clock);

std::unique_ptr<MemState> NewMemState(const RawStateDescriptor& d,
                                      int num_slots, const MemKey* key,
                                      const Clock* clock);

// Splits [len][key][ns] into key and namespace.
void SplitComposite(std::string_view composite, std::string_view* key,
                    std::string_view* ns);

}  // namespace weir::internal
