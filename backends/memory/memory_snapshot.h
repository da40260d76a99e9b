// SPDX-License-Identifier: Apache-2.0
//
// Key-group streams (SnapshotFormat::kKeyGroupStreams): a backend-neutral
// snapshot built on KeyedStateBackend::ForEachEntry and ImportEntry, so
// that any backend can write it and any backend can restore it. It is the
// memory backend's snapshot format and the canonical savepoint format.
//
// Files, each one zstd frame (lib/compression.h) of:
//   "<op hex>-kg<NNNNN>.zst": magic "WKGS", version (varint, 1), key group
//       (varint), operator id (16 bytes), the operator's descriptors
//       (varint count, then length-prefixed EncodeDescriptor bytes), then
//       entries to the end, each:
//         kind (1 byte: 0 value, 1 list element, 2 map entry, 3 timer)
//         timers: domain (1 byte); others: descriptor index (varint)
//         key, namespace (length-prefixed)
//         map entries: user key (length-prefixed)
//         all but timers: value (length-prefixed)
//         timestamp (fixed64: timer time, or TTL write time, or 0)
//       List elements come in list order. Empty key groups have no file.
//   "<op hex>-operator.zst" (key_group -1): magic "WOPS", version (varint,
//       1), operator id, descriptors as above, then operator list states:
//       varint count, each: name (length-prefixed), mode (1 byte),
//       varint count, values (length-prefixed).
// SnapshotFile::checksum is XXH3-64 of the compressed file.
//
// The synchronous phase encodes every entry into one buffer per operator
// and key group (a full copy of the live state, linear in its size); the
// asynchronous phase compresses and writes them.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include <weir/options.h>

#include "backends/backend.h"
#include "backends/snapshot.h"

namespace weir {

// Creates a memory backend holding the state of `snapshots`: key-group
// streams are imported entry by entry; RocksDB SST snapshots are restored
// into a temporary RocksDB under `scratch_dir` (default: the system's temp
// directory), copied over and the temporary directory removed. Files are
// verified (size, checksum) first; a mismatch is Corruption naming the file.
// Entries of key groups outside options.key_group_range are skipped.
Result<std::unique_ptr<KeyedStateBackend>> RestoreMemoryBackend(
    const StateBackendOptions& options,
    const std::vector<BackendSnapshot>& snapshots,
    const std::string& scratch_dir = "");

// Imports kKeyGroupStreams snapshots into `backend` (of any kind): entries
// of key groups in its range, descriptors (registered even without
// entries) and operator list states (the lists of several snapshots are
// concatenated in order; redistributing them is the engine's job).
Status ImportKeyGroupStreams(KeyedStateBackend& backend,
                             const std::vector<BackendSnapshot>& snapshots);

// Copies everything of `from` into `to` (descriptors, entries of the key
// groups both own, operator list states).
Status CopyBackendState(KeyedStateBackend& from, KeyedStateBackend& to);

namespace internal {

// The synchronous phase of a key-group stream snapshot of any backend.
// `pending` counts pending snapshots of the backend (it may outlive it).
Result<std::unique_ptr<PendingSnapshot>> TakeKeyGroupStreamSnapshot(
    KeyedStateBackend& backend, int64_t checkpoint_id,
    const std::string& local_dir, std::shared_ptr<std::atomic<int>> pending);

// Checks a file's size and XXH3-64 against `file`. Corruption (or IOError
// if it cannot be read) naming the file and the mismatch. A file whose
// inode, size and mtime are still those recorded when its checksum was
// computed (SnapshotFile::verified_*) is not read again.
Status VerifySnapshotFile(const SnapshotFile& file);

}  // namespace internal
}  // namespace weir
