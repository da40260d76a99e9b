// SPDX-License-Identifier: Apache-2.0
//
// weir::SavepointReader: the entries of a savepoint of the count job (a
// keyed int64 count, the source's offset in an operator list) read back
// from native, self-contained and canonical savepoints of both backends:
// exactly the counts the job computed, each in its key's key group; the
// filters; errors for unknown operators and states; the savepoint and its
// checkpoint storage unchanged and the scratch directory removed.
#include <filesystem>
#include <map>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <weir/state_reader.h>

#include "tests/engine/checkpoint/count_job.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/temp_dir.h"
#include "weir/savepoint.h"

namespace weir::enginetest {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testutil::StatusIs;

constexpr int64_t kTotal = 4000;
constexpr int64_t kAt = 1500;

std::map<std::string, uintmax_t> Tree(const std::string& root) {
  std::map<std::string, uintmax_t> out;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end;
       it.increment(ec)) {
    out[fs::relative(it->path(), root).string()] =
        it->is_regular_file() ? it->file_size() : 0;
  }
  return out;
}

struct Param {
  JobOptions::Backend backend;
  SavepointFormatType format;
  bool self_contained;
};

class StateReaderTest : public ::testing::TestWithParam<Param> {
 protected:
  void SetUp() override { dir_.Create(); }

  std::string Savepoint() {
    JobOptions o;
    o.backend = GetParam().backend;
    o.local_dir = dir_.Sub("local");
    o.checkpoints.dir = dir_.Sub("checkpoints");
    o.checkpoints.savepoint_dir = dir_.Sub("savepoints");
    SavepointOptions sp;
    sp.format = GetParam().format;
    sp.self_contained = GetParam().self_contained;
    Harness run;
    std::unique_ptr<Job> job;
    const CheckpointStats stats =
        RunCountJobToSavepoint(run, o, kTotal, kAt, sp, &job);
    EXPECT_EQ(stats.state, CheckpointState::kCompleted);
    job->Cancel();
    job->Wait().IgnoreError();
    return stats.path;
  }

  testutil::TestDir dir_;
};

TEST_P(StateReaderTest, ReadsTheCountsTheJobComputed) {
  const std::string sp = Savepoint();
  ASSERT_FALSE(sp.empty());
  fs::create_directories(dir_.Sub("scratch"));
  const auto before = Tree(dir_.path());
  {
    SavepointReaderOptions options;
    options.scratch_parent = dir_.Sub("scratch");
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<SavepointReader> reader,
                         SavepointReader::Open(sp, options));
    EXPECT_EQ(reader->kind(), "savepoint");
    EXPECT_EQ(reader->max_parallelism(), kDefaultMaxParallelism);
    ASSERT_OK_AND_ASSIGN(OperatorId count, reader->FindOperator("count"));
    EXPECT_EQ(count, OperatorId::FromUid("count"));
    ASSERT_OK_AND_ASSIGN(OperatorId by_hex,
                         reader->FindOperator(count.ToHex()));
    EXPECT_EQ(by_hex, count);

    std::map<std::string, int64_t> counts;
    std::vector<std::string> offsets;
    ASSERT_OK(reader->Read({}, [&](const StateRecord& r) {
      if (r.kind == StateRecord::Kind::kOperatorListElement) {
        EXPECT_EQ(r.uid, "source");
        EXPECT_EQ(r.state_name, "offset");
        offsets.emplace_back(r.value);
        return Status::OK();
      }
      EXPECT_EQ(r.kind, StateRecord::Kind::kValue);
      EXPECT_EQ(r.operator_id, count);
      EXPECT_EQ(r.uid, "count");
      EXPECT_EQ(r.state_name, "count");
      EXPECT_EQ(r.key_group, KeyGroupForKey(r.key, kDefaultMaxParallelism));
      int64_t v = 0;
      // [version 1][big-endian int64, sign bit flipped]
      EXPECT_EQ(r.value.size(), 9u);
      EXPECT_EQ(r.value[0], 1);
      EXPECT_OK(Serializer<int64_t>().Deserialize(1, r.value.substr(1), &v));
      EXPECT_FALSE(counts.contains(std::string(r.key)));
      counts[std::string(r.key)] = v;
      return Status::OK();
    }));
    EXPECT_EQ(counts, ExpectedCounts(kAt));
    ASSERT_EQ(offsets.size(), 1u);
    std::string want;
    want.push_back(1);
    Serializer<int64_t>().Serialize(kAt, &want);
    EXPECT_EQ(offsets[0], want);

    // Filters.
    int n = 0;
    StateReadFilter only_source;
    ASSERT_OK_AND_ASSIGN(only_source.operator_id,
                         reader->FindOperator("source"));
    ASSERT_OK(reader->Read(only_source, [&](const StateRecord& r) {
      EXPECT_EQ(r.uid, "source");
      ++n;
      return Status::OK();
    }));
    EXPECT_EQ(n, 1);
    StateReadFilter count_state;
    count_state.state_name = "count";
    n = 0;
    ASSERT_OK(reader->Read(count_state, [&](const StateRecord& r) {
      EXPECT_EQ(r.state_name, "count");
      ++n;
      return Status::OK();
    }));
    EXPECT_EQ(n, kKeys);

    // A visitor's error stops the walk.
    EXPECT_THAT(
        reader->Read(
            {}, [](const StateRecord&) { return Status::Aborted("enough"); }),
        StatusIs(Status::Code::kAborted));

    // Unknown operators and states.
    EXPECT_THAT(reader->FindOperator("nobody").status(),
                StatusIs(Status::Code::kNotFound, HasSubstr("count")));
    StateReadFilter missing;
    missing.operator_id = count;
    missing.state_name = "offset";
    EXPECT_THAT(
        reader->Read(missing, [](const StateRecord&) { return Status::OK(); }),
        StatusIs(Status::Code::kNotFound, HasSubstr("'offset'")));
    EXPECT_FALSE(fs::is_empty(dir_.Sub("scratch")));
  }
  // Nothing changed, the scratch directory is gone.
  EXPECT_EQ(Tree(dir_.path()), before);
  EXPECT_TRUE(fs::is_empty(dir_.Sub("scratch")));
}

TEST(StateReader, NotASnapshotIsOneError) {
  testutil::TestDir dir;
  dir.Create();
  EXPECT_THAT(SavepointReader::Open(dir.Sub("none")).status(),
              StatusIs(Status::Code::kNotFound, HasSubstr("none")));
  std::ofstream(dir.Sub("_metadata")) << "not a metadata file at all, no";
  EXPECT_THAT(SavepointReader::Open(dir.path()).status(),
              StatusIs(Status::Code::kCorruption, HasSubstr("_metadata")));
}

INSTANTIATE_TEST_SUITE_P(
    Formats, StateReaderTest,
    ::testing::Values(Param{JobOptions::Backend::kRocksDB,
                            SavepointFormatType::kNative, false},
                      Param{JobOptions::Backend::kRocksDB,
                            SavepointFormatType::kNative, true},
                      Param{JobOptions::Backend::kRocksDB,
                            SavepointFormatType::kCanonical, false},
                      Param{JobOptions::Backend::kMemory,
                            SavepointFormatType::kNative, false},
                      Param{JobOptions::Backend::kMemory,
                            SavepointFormatType::kCanonical, false}),
    [](const ::testing::TestParamInfo<Param>& info) {
      std::string name = info.param.backend == JobOptions::Backend::kRocksDB
                             ? "rocksdb"
                             : "memory";
      name += info.param.format == SavepointFormatType::kCanonical
                  ? "_canonical"
                  : "_native";
      if (info.param.self_contained) name += "_self_contained";
      return name;
    });

}  // namespace
}  // namespace weir::enginetest
