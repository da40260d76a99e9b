// SPDX-License-Identifier: Apache-2.0
//
// How much memory this process may use: the machine's memory, or the limit
// of the process's memory cgroup (v1 `memory.limit_in_bytes` or v2
// `memory.max`, of its own cgroup and every ancestor) if that is lower. The
// page cache is charged to the cgroup, so this is also what bounds the
// cached part of files the process reads. Used to pick how RocksDB reads
// its files (docs/rocksdb-options.md, "read mode").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace weir {

// The limit for this process, read from /proc and /sys/fs/cgroup; 0 if
// not even the machine's memory can be read.
uint64_t ProcessMemoryLimitBytes();

namespace internal {

// The same from given texts and a cgroup mount root: `proc_self_cgroup`
// is /proc/self/cgroup, `meminfo` /proc/meminfo, `cgroup_root` the
// directory under which the v1 `memory/` hierarchy or the v2 unified one
// is mounted (normally /sys/fs/cgroup). Files that cannot be read, and
// limits written as "max" or as v1's "no limit" value, are ignored.
uint64_t MemoryLimitBytesFrom(std::string_view proc_self_cgroup,
                              std::string_view meminfo,
                              const std::string& cgroup_root);

}  // namespace internal
}  // namespace weir
