// SPDX-License-Identifier: Apache-2.0
//
// `weir state dump PATH [--uid UID | --id ID] [--state NAME] [--key KEY]
// [--format json|csv]`: the entries of a savepoint's or retained
// checkpoint's state on stdout, one per line (state_decode.h).
#pragma once

#include <optional>
#include <string>

namespace weir::tools {

struct DumpArgs {
  std::string path;
  std::optional<std::string> uid;  // uid, or an operator id in hex
  std::optional<std::string> id;   // operator id in hex
  std::optional<std::string> state;
  std::optional<std::string> key;
  std::string format = "json";
};

// Prints the entries; returns the exit status: 0, or 1 after one error
// line (a bad path or snapshot, an unknown uid or state, a damaged file).
int StateDumpCommand(const DumpArgs& args);

}  // namespace weir::tools
