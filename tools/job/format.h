// SPDX-License-Identifier: Apache-2.0
//
// Record formats: how a Row is read from and written to one line of text.
//
//   csv   comma-separated values, no header line. A field that holds a comma,
//         a double quote, a CR or a LF is written in double quotes, with
//         inner quotes doubled (RFC 4180); quoted fields are read back the
//         same way. A quoted field may span lines: IsComplete() says when a
//         reader must append the next line before calling Parse().
//   json  JSON lines: one object per line whose keys are the schema's field
//         names, in schema order. Keys not in the schema are ignored when
//         reading; every schema field must be present and not null.
//
// Parse errors are InvalidArgument with a message that names the field and
// the bad text but not the file: the caller prefixes "path:line: ".
// A RecordFormat is immutable after MakeFormat and safe to share between
// threads.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <weir/result.h>

#include "tools/job/row.h"

namespace weir::tools {

class RecordFormat {
 public:
  virtual ~RecordFormat() = default;

  // "csv" or "json".
  virtual std::string_view name() const = 0;

  // Parses one record. A blank line (empty or only whitespace) gives
  // nullopt; a trailing '\r' is ignored. Errors, for example:
  //   expected 2 fields (user, amount), got 3
  //   field 'amount': 'abc' is not an int64
  virtual Result<std::optional<Row>> Parse(std::string_view line) const = 0;

  // Appends `row` as one line, without the trailing newline.
  // REQUIRES: row has one value per schema field.
  virtual void Format(const Row& row, std::string* out) const = 0;

  // False if `text` ends inside a quoted field, so that the record goes on
  // in the next line. Always true for json.
  virtual bool IsComplete(std::string_view text) const = 0;
};

// The format called `name` ("csv" or "json") for rows of `schema`.
// InvalidArgument for other names.
Result<std::unique_ptr<RecordFormat>> MakeFormat(std::string_view name,
                                                 const Schema& schema);

// True if `name` is a known format name.
bool IsKnownFormat(std::string_view name);

}  // namespace weir::tools
