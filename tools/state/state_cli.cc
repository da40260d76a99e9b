// SPDX-License-Identifier: Apache-2.0
#include "tools/state/state_cli.h"

#include <string_view>

namespace weir::tools {

void StateCli::Register(CLI::App& app, CLI::App* savepoint,
                        CLI::App* savepoint_info, CLI::App* checkpoint_info) {
  CLI::App* state = app.add_subcommand(
      "state", "Read the state of a savepoint or retained checkpoint offline");
  state->require_subcommand(1);
  dump_cmd_ = state->add_subcommand(
      "dump",
      "Print the state entries of a savepoint or retained checkpoint, one "
      "per line (JSON lines or CSV)");
  CLI::Option* uid = dump_cmd_->add_option(
      "--uid", dump_.uid, "Only the operator with this uid (or id in hex)");
  dump_cmd_->add_option("--id", dump_.id, "Only the operator with this id")
      ->excludes(uid);
  dump_cmd_->add_option("--state", dump_.state,
                        "Only the state with this name (no timers)");
  dump_cmd_->add_option("--key", dump_.key,
                        "Only the entries of this key (as printed, or 0x "
                        "and its bytes in hex)");
  dump_cmd_->add_option("--format", dump_.format, "json (default) or csv");
  dump_cmd_
      ->add_option("path", dump_.path,
                   "The savepoint or chk-N directory or its _metadata")
      ->required();

  diff_cmd_ = savepoint->add_subcommand(
      "diff",
      "Compare the state of two savepoints or retained checkpoints (exit 0: "
      "equal, 1: different, 2: error)");
  diff_cmd_->add_flag("--keys", diff_keys_,
                      "List the changed keys with their old and new values");
  diff_cmd_->add_flag("--json", diff_json_, "Print one JSON object");
  diff_cmd_->add_option("a", diff_a_, "The first snapshot")->required();
  diff_cmd_->add_option("b", diff_b_, "The second snapshot")->required();

  for (CLI::App* info : {savepoint_info, checkpoint_info}) {
    info->add_flag("--sizes", sizes_,
                   "Read the state and show bytes and entries per operator, "
                   "state and key group");
  }
}

std::optional<int> StateCli::Run() const {
  if (dump_cmd_->parsed()) return StateDumpCommand(dump_);
  if (diff_cmd_->parsed()) {
    return SavepointDiffCommand(diff_a_, diff_b_, diff_keys_, diff_json_);
  }
  return std::nullopt;
}

std::optional<int> StateCli::RunInfo(const std::string& path, bool json) const {
  if (!sizes_) return std::nullopt;
  return StateSizesCommand(path, json);
}

int StateCli::ErrorStatus(int argc, const char* const* argv) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string_view(argv[i]) == "savepoint" &&
        std::string_view(argv[i + 1]) == "diff") {
      return 2;
    }
  }
  return 1;
}

}  // namespace weir::tools
