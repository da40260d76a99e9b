// SPDX-License-Identifier: Apache-2.0
//
// `weir checkpoint`, GET /jobs/:jobid/checkpoints and GET /metrics against
// a detached job of the `weir` binary.
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testutil/temp_dir.h"
#include "tests/tools/e2e/run_process.h"
#include "tests/tools/e2e/weir_output.h"
#include "tools/control/rest_client.h"

namespace weir::e2e {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using json = nlohmann::json;

constexpr char kGenJob[] = R"(name: counting
operators:
  - uid: gen
    type: generator
    keys: 100
    rate: 2000
  - uid: counts
    type: count
    key: key
  - uid: sink
    type: null-sink
)";

class WeirCheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.Create();
    // An empty configuration directory: a configuration file on this
    // machine (/etc/weir/config.yaml) changes nothing here.
    std::filesystem::create_directories(dir_.Sub("etc"));
    env_ = {"WEIR_RUNTIME_DIR=" + dir_.Sub("runtime"), "TMPDIR=" + dir_.path(),
            "WEIR_CONF_DIR=" + dir_.Sub("etc")};
    std::ofstream(dir_.Sub("gen.yaml")) << kGenJob;
  }
  void TearDown() override {
    for (const std::string& id : started_) Weir({"cancel", id});
  }
  ProcessResult Weir(std::vector<std::string> args, int timeout_s = 60) {
    args.insert(args.begin(), WeirBinary());
    return e2e::Run(args, dir_.path(), env_, timeout_s);
  }
  // Starts gen.yaml detached with the extra -D options; its id and port.
  void Start(const std::vector<std::string>& defines, std::string* id,
             int* port) {
    std::vector<std::string> args = {"run", "-d", "-D", "rest.port=0"};
    for (const std::string& d : defines) {
      args.push_back("-D");
      args.push_back(d);
    }
    args.push_back("gen.yaml");
    ProcessResult r = Weir(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const size_t at = r.out.find("JobID ");
    ASSERT_NE(at, std::string::npos) << r.out;
    *id = r.out.substr(at + 6, 32);
    started_.push_back(*id);
    const std::string rest = "REST endpoint: http://127.0.0.1:";
    const size_t rest_at = r.out.find(rest);
    ASSERT_NE(rest_at, std::string::npos) << r.out;
    *port = std::stoi(r.out.substr(rest_at + rest.size()));
  }
  json GetJson(int port, const std::string& path) {
    Result<std::string> body = tools::HttpGet("127.0.0.1", port, path);
    EXPECT_TRUE(body.ok()) << body.status().ToString();
    if (!body.ok()) return json();
    return json::parse(*body, nullptr, false);
  }

  testutil::TestDir dir_;
  std::vector<std::string> env_;
  std::vector<std::string> started_;
};

// "Checkpoint N for job X completed. Path: P": N and P.
std::pair<int, std::string> Completed(const std::string& out,
                                      const std::string& id) {
  const std::string head = "Checkpoint ";
  const std::string mid = " for job " + id + " completed. Path: ";
  const size_t m = out.find(mid);
  if (out.rfind(head, 0) != 0 || m == std::string::npos) return {0, ""};
  std::string path = out.substr(m + mid.size());
  while (!path.empty() && path.back() == '\n') path.pop_back();
  return {std::stoi(out.substr(head.size(), m - head.size())), path};
}

TEST_F(WeirCheckpointTest, CheckpointsOnDemandAndReportsThem) {
  const std::string ckpt = dir_.Sub("ckpt");
  std::string id;
  int port = 0;
  ASSERT_NO_FATAL_FAILURE(
      Start({"execution.checkpointing.dir=" + ckpt}, &id, &port));

  ProcessResult r = Weir({"checkpoint", id});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto [n1, path1] = Completed(r.out, id);
  EXPECT_EQ(n1, 1) << r.out;
  EXPECT_EQ(path1, ckpt + "/" + id + "/chk-1");
  EXPECT_TRUE(fs::exists(path1 + "/_metadata")) << path1;

  r = Weir({"checkpoint", "--full", id});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto [n2, path2] = Completed(r.out, id);
  EXPECT_EQ(n2, 2) << r.out;
  EXPECT_TRUE(fs::exists(path2 + "/_metadata")) << path2;

  // Through -m as well.
  r = Weir({"checkpoint", "-m", "127.0.0.1:" + std::to_string(port), id});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Completed(r.out, id).first, 3) << r.out;

  const json all = GetJson(port, "/jobs/" + id + "/checkpoints");
  EXPECT_EQ(all["counts"]["completed"], 3) << all.dump();
  EXPECT_EQ(all["counts"]["failed"], 0);
  EXPECT_EQ(all["latest"]["completed"]["id"], 3);
  EXPECT_EQ(all["latest"]["completed"]["external_path"],
            ckpt + "/" + id + "/chk-3");
  ASSERT_GE(all["history"].size(), 3u);
  const json second = GetJson(port, "/jobs/" + id + "/checkpoints/details/2");
  EXPECT_EQ(second["is_full"], true) << second.dump();
  EXPECT_EQ(second["bytes_referenced"], 0);
  EXPECT_GT(second["files"].get<int>(), 0);

  Result<std::string> metrics = tools::HttpGet("127.0.0.1", port, "/metrics");
  ASSERT_TRUE(metrics.ok()) << metrics.status().ToString();
  const std::string job = "{job_id=\"" + id + "\"}";
  EXPECT_THAT(*metrics,
              HasSubstr("weir_checkpoints_completed_total" + job + " 3\n"));
  EXPECT_THAT(*metrics,
              HasSubstr("weir_checkpoints_failed_total" + job + " 0\n"));
  EXPECT_THAT(*metrics, HasSubstr("weir_checkpoint_duration_seconds_count" +
                                  job + " 3\n"));
  EXPECT_THAT(*metrics, HasSubstr("weir_last_checkpoint_id" + job + " 3\n"));
  EXPECT_THAT(*metrics, HasSubstr("weir_records_in_total{job_id=\"" + id));
  EXPECT_THAT(*metrics, HasSubstr("# TYPE weir_checkpoint_duration_seconds "
                                  "histogram\n"));
  // The default backend is RocksDB, and this small state is read through
  // memory maps (kAuto): every vertex's subtasks say so.
  const json details = GetJson(port, "/jobs/" + id);
  EXPECT_EQ(details["state-backend"], "rocksdb") << details.dump();
  for (const json& v : details["vertices"]) {
    EXPECT_EQ(v["state-read-mode"]["mmap"], v["parallelism"]) << v.dump();
    EXPECT_EQ(v["state-read-mode"]["pread"], 0) << v.dump();
  }
  EXPECT_THAT(*metrics, HasSubstr("weir_state_read_mode_subtasks{job_id=\"" +
                                  id + "\",vertex_id="));
}

TEST_F(WeirCheckpointTest, FailsClearlyWithoutCheckpointDirOrJob) {
  std::string id;
  int port = 0;
  ASSERT_NO_FATAL_FAILURE(Start({}, &id, &port));
  ProcessResult r = Weir({"checkpoint", id});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, MatchesRegex(LogLinePrefix("ERROR") +
                                  "[^\n]*execution\\.checkpointing"
                                  "\\.dir[^\n]*\n"));

  r = Weir({"checkpoint", "0123456789abcdef0123456789abcdef"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, MatchesRegex(LogLinePrefix("ERROR") + "[^\n]*\n"));
  EXPECT_THAT(r.err, HasSubstr("0123456789abcdef0123456789abcdef"));

  r = Weir({"checkpoint", "-m", "127.0.0.1:" + std::to_string(port),
            "0123456789abcdef0123456789abcdef"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("HTTP 404"));

  r = Weir({"checkpoint", "nothex"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasErrorLine());
}

}  // namespace
}  // namespace weir::e2e
