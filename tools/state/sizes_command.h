// SPDX-License-Identifier: Apache-2.0
//
// `weir savepoint info --sizes [--json] PATH` (and `checkpoint info
// --sizes`): reads the whole state of a savepoint or retained checkpoint
// and shows, per operator, its entries and bytes, per state, per key group
// (min, median and max over the key groups and a histogram line, so that
// skew shows at a glance) and the files it references.
//
// Bytes are the entries' logical size: key, namespace, map key and value
// as stored (serializer headers included), before compression; file bytes
// are the files' sizes on disk.
#pragma once

#include <string>

namespace weir::tools {

// Prints the sizes; returns 0, or 1 after one error line.
int StateSizesCommand(const std::string& path, bool json);

}  // namespace weir::tools
