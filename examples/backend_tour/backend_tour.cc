// SPDX-License-Identifier: Apache-2.0
//
// A walk through weir's keyed state backends, until the engine runs real
// jobs: count words into RocksDB-backed state, close the backend, reopen it,
// and check that every count, list and map came back; then do the same work
// on the memory backend and compare the two entry by entry.
//
//   backend_tour [STATE_DIR]     (default: ./weir-demo-state, recreated)
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <tuple>

#include <weir/state.h>

#include "backends/memory/memory_backend.h"
#include "backends/rocksdb/rocksdb_backend.h"

namespace {

using weir::KeyedStateBackend;
using weir::Status;

const weir::OperatorId kCounter = weir::OperatorId::FromUid("word-counter");
constexpr int kWords = 20000;
constexpr int kDistinct = 5000;

std::string WordAt(int i) {
  // A deterministic, skewed stream: low word ids come up more often.
  const uint64_t x = (static_cast<uint64_t>(i) * 2654435761u) % 1000003;
  return "word-" + std::to_string((x * x) % kDistinct);
}

int Fail(const Status& s) {
  std::fprintf(stderr, "backend_tour: %s\n", s.ToString().c_str());
  return 1;
}

// Counts words: a value state with the count, a list of the positions where
// the word was seen last (at most 3 kept), and a map from word length to
// count, per key.
Status CountWords(KeyedStateBackend& backend) {
  auto count = weir::GetState(backend, kCounter,
                              weir::ValueStateDescriptor<int64_t>{"count"});
  auto seen = weir::GetState(backend, kCounter,
                             weir::ListStateDescriptor<int32_t>{"last-seen"});
  auto first = weir::GetState(
      backend, kCounter,
      weir::ReducingStateDescriptor<int32_t>{
          "first-seen", [](int32_t a, int32_t b) { return std::min(a, b); }});
  if (!count.ok()) return count.status();
  if (!seen.ok()) return seen.status();
  if (!first.ok()) return first.status();
  for (int i = 0; i < kWords; ++i) {
    Status s = backend.SetCurrentKey(WordAt(i));
    if (!s.ok()) return s;
    auto c = count->Value();
    if (!c.ok()) return c.status();
    s = count->Update(c->value_or(0) + 1);
    if (!s.ok()) return s;
    auto list = seen->Get();
    if (!list.ok()) return list.status();
    list->push_back(i);
    if (list->size() > 3) list->erase(list->begin());
    s = seen->Update(*list);
    if (!s.ok()) return s;
    s = first->Add(i);
    if (!s.ok()) return s;
  }
  return Status::OK();
}

using Dump = std::set<std::tuple<std::string, std::string, std::string>>;

// Every entry of the operator, as (state, key, value) in a sorted set.
weir::Result<Dump> DumpAll(KeyedStateBackend& backend) {
  Dump dump;
  std::map<std::pair<std::string, std::string>, int> list_positions;
  const weir::KeyGroupRange range = backend.key_group_range();
  for (int kg = range.start; kg <= range.end; ++kg) {
    Status s =
        backend.ForEachEntry(kCounter, kg, [&](const weir::StateEntry& e) {
          const std::string state = e.state ? e.state->name : "timer";
          std::string value(e.value);
          if (e.kind == weir::StateEntry::Kind::kListElement) {
            // Lists keep their order: number the elements of each list.
            const int pos = list_positions[{state, std::string(e.key)}]++;
            value = std::to_string(pos) + ":" + value;
          }
          dump.emplace(state, std::string(e.key), value);
          return Status::OK();
        });
    if (!s.ok()) return s;
  }
  return dump;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : "weir-demo-state";
  if (argc > 2) {
    std::fprintf(stderr, "usage: backend_tour [STATE_DIR]\n");
    return 2;
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);

  weir::StateBackendOptions options;  // 128 key groups, all owned
  weir::RocksDBOptions rocks;
  rocks.block_cache_bytes = 32 << 20;

  std::printf("1. Counting %d words (ids below %d) into RocksDB state in %s\n",
              kWords, kDistinct, dir.c_str());
  {
    auto backend = weir::OpenRocksDBBackend(options, rocks, dir);
    if (!backend.ok()) return Fail(backend.status());
    Status s = CountWords(**backend);
    if (!s.ok()) return Fail(s);
    std::printf("   operator %s now has states:", kCounter.ToHex().c_str());
    for (const auto& d : (*backend)->States(kCounter)) {
      std::printf(" %s (%s)", d.name.c_str(),
                  std::string(weir::StateTypeName(d.type)).c_str());
    }
    std::printf(
        "\n2. Closing the backend (memtables are flushed; the WAL is off)\n");
  }

  std::printf("3. Reopening %s and reading the state back\n", dir.c_str());
  auto reopened = weir::OpenRocksDBBackend(options, rocks, dir);
  if (!reopened.ok()) return Fail(reopened.status());
  auto count = weir::GetState(**reopened, kCounter,
                              weir::ValueStateDescriptor<int64_t>{"count"});
  if (!count.ok()) return Fail(count.status());
  for (const char* word : {"word-0", "word-1", "word-4"}) {
    Status s = (*reopened)->SetCurrentKey(word);
    if (!s.ok()) return Fail(s);
    auto c = count->Value();
    if (!c.ok()) return Fail(c.status());
    std::printf("   count(%s) = %lld\n", word,
                static_cast<long long>(c->value_or(0)));
  }

  std::printf("4. Doing the same work on the memory backend and comparing\n");
  auto memory = weir::NewMemoryBackend(options);
  if (!memory.ok()) return Fail(memory.status());
  Status s = CountWords(**memory);
  if (!s.ok()) return Fail(s);
  auto from_rocks = DumpAll(**reopened);
  auto from_memory = DumpAll(**memory);
  if (!from_rocks.ok()) return Fail(from_rocks.status());
  if (!from_memory.ok()) return Fail(from_memory.status());
  const bool equal = *from_rocks == *from_memory;
  std::printf("   %zu entries after reopen, %zu in memory: %s\n",
              from_rocks->size(), from_memory->size(),
              equal ? "identical" : "DIFFERENT");
  reopened->reset();

  std::printf("5. Reopening with another max parallelism is refused:\n");
  weir::StateBackendOptions other = options;
  other.max_parallelism = 256;
  auto refused = weir::OpenRocksDBBackend(other, rocks, dir);
  std::printf("   %s\n", refused.ok() ? "(unexpectedly opened)"
                                      : refused.status().ToString().c_str());
  return equal && !refused.ok() ? 0 : 1;
}
