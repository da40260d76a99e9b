// SPDX-License-Identifier: Apache-2.0
//
// Key-group streams (SnapshotFormat::kKeyGroupStreams): a backend-neutral
// snapshot built on KeyedStateBackend::ForEachEntry and ImportEntry, so
// that any backend can write it and any backend can restore it. It is the
// memory backend's snapshot format and the canonical savepoint format.
//
// Thread safety: the functions below use the backends they are given from
// the calling thread (a backend's own thread); Complete() of a stream
// snapshot touches only its buffers and may run on any thread.
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
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <weir/status.h>

#include "backends/backend.h"
#include "backends/snapshot.h"

namespace weir {

// Imports kKeyGroupStreams snapshots into `backend` (of any kind): entries
// of key groups in its range, descriptors (registered even without
// entries) and operator list states (the lists of several snapshots are
// concatenated in order; redistributing them is the engine's job). Every
// file is verified (VerifySnapshotFile) before anything changes.
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

}  // namespace internal
}  // namespace weir
