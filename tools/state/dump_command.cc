// SPDX-License-Identifier: Apache-2.0
#include "tools/state/dump_command.h"

#include <cstdio>
#include <string>

#include <weir/state_reader.h>

#include "tools/log/log.h"
#include "tools/state/state_decode.h"

namespace weir::tools {

int StateDumpCommand(const DumpArgs& args) {
  if (args.format != "json" && args.format != "csv") {
    log::Error("unknown format '" + args.format + "'; use json or csv");
    return 1;
  }
  if (args.uid && args.id) {
    log::Error("give --uid or --id, not both");
    return 1;
  }
  Result<std::unique_ptr<SavepointReader>> reader =
      SavepointReader::Open(args.path);
  if (!reader.ok()) {
    log::Error(reader.status().message());
    return 1;
  }
  StateReadFilter filter;
  if (args.uid || args.id) {
    // FindOperator takes a uid or an id in hex.
    Result<OperatorId> op =
        (*reader)->FindOperator(args.uid ? *args.uid : *args.id);
    if (!op.ok()) {
      log::Error(op.status().message());
      return 1;
    }
    filter.operator_id = *op;
  }
  filter.state_name = args.state;
  const bool csv = args.format == "csv";
  if (csv) std::printf("%s\n", CsvHeader().c_str());
  std::string line;
  Status s = (*reader)->Read(filter, [&](const StateRecord& r) {
    if (args.key && (r.kind == StateRecord::Kind::kOperatorListElement ||
                     !KeyMatches(r.key, *args.key))) {
      return Status::OK();
    }
    if (csv) {
      line = RecordToCsv(r);
    } else {
      line = RecordToJson(r).dump(-1, ' ', false,
                                  nlohmann::json::error_handler_t::replace);
    }
    line += '\n';
    if (std::fwrite(line.data(), 1, line.size(), stdout) != line.size()) {
      return Status::IOError("cannot write to stdout");
    }
    return Status::OK();
  });
  if (!s.ok()) {
    std::fflush(stdout);
    log::Error(s.message());
    return 1;
  }
  if (std::fflush(stdout) != 0) {
    log::Error("cannot write to stdout");
    return 1;
  }
  return 0;
}

}  // namespace weir::tools
