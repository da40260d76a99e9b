// SPDX-License-Identifier: Apache-2.0
//
// `weir savepoint diff [--keys] [--json] A B`: what differs between the
// state of two savepoints or retained checkpoints: operators and states
// added, removed and changed, and per state the entries added, removed and
// changed and the bytes before and after; with --keys, every changed key
// with its old and new value. Operators are matched by id (the uid's hash),
// entries by key, namespace and map key; a list is compared whole, timers
// by key, namespace and time. TTL timestamps are not compared.
//
// Both snapshots' state is held in memory while they are compared.
#pragma once

#include <string>

namespace weir::tools {

// Prints the differences; returns 0 when the states are equal, 1 when they
// differ, 2 after one error line (as diff(1) does).
int SavepointDiffCommand(const std::string& a, const std::string& b, bool keys,
                         bool json);

}  // namespace weir::tools
