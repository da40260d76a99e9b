// SPDX-License-Identifier: Apache-2.0
//
// Disposing of a savepoint (weir::DisposeSavepoint, Job::DisposeSavepoint).
// It deletes only what the savepoint consists of: its `_metadata`, the files
// its metadata places inside its directory and the folders that hold them,
// its registration in the checkpoint storage, and the shared files that
// nothing else references. A directory that holds anything else is refused
// before anything is deleted. Design: docs/savepoints.md, "Disposing".
#pragma once

#include <string>

#include <weir/status.h>

#include "engine/checkpoint/shared_store.h"

namespace weir::engine {

// Disposes of the savepoint at `path`: its directory, or its `_metadata`
// file named exactly that. `owner` is the open store of the job running in
// this process, or null; a savepoint whose shared_root is owner->root() is
// released through it. Another checkpoint storage is opened only if it is
// one (it has shared/ and registers this savepoint) and no other process
// runs its job (its LOCK is free); when one does, the savepoint's own files
// and registration go and its shared files stay until that job restarts.
//
// NotFound if nothing is at `path`; InvalidArgument, deleting nothing, if
// it is not a savepoint (a checkpoint, a file not named `_metadata`) or its
// directory holds anything that is not part of it; the errors of
// ReadMetadataFile, deleting nothing; IOError from the file system.
Status DisposeSavepoint(const std::string& path, SharedFileStore* owner);

}  // namespace weir::engine
