// SPDX-License-Identifier: Apache-2.0
//
// The command line of the offline state tools, kept here so that the
// `weir` binary's main only registers and dispatches them:
//
//   weir state dump PATH [--uid UID | --id ID] [--state NAME] [--key KEY]
//                        [--format json|csv]
//   weir savepoint info --sizes [--json] PATH   (and checkpoint info)
//   weir savepoint diff [--keys] [--json] A B
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "tools/state/diff_command.h"
#include "tools/state/dump_command.h"
#include "tools/state/sizes_command.h"

namespace weir::tools {

class StateCli {
 public:
  // Adds `state dump` to `app`, `diff` to `savepoint`, and --sizes to the
  // `info` subcommands given.
  void Register(CLI::App& app, CLI::App* savepoint, CLI::App* savepoint_info,
                CLI::App* checkpoint_info);

  // After parsing: the exit status of `state dump` or `savepoint diff` if
  // one of them was given, else nullopt.
  std::optional<int> Run() const;

  // For `savepoint info` and `checkpoint info`: with --sizes, runs it and
  // returns the exit status; else nullopt (the plain info).
  std::optional<int> RunInfo(const std::string& path, bool json) const;

  // The exit status of an error before a command runs (a bad flag, a bad
  // configuration file): 2 for `savepoint diff`, as diff(1) does, else 1.
  // Looks at argv itself, as parsing may have failed.
  static int ErrorStatus(int argc, const char* const* argv);

 private:
  CLI::App* dump_cmd_ = nullptr;
  DumpArgs dump_;
  CLI::App* diff_cmd_ = nullptr;
  std::string diff_a_;
  std::string diff_b_;
  bool diff_keys_ = false;
  bool diff_json_ = false;
  bool sizes_ = false;
};

}  // namespace weir::tools
