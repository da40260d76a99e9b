// SPDX-License-Identifier: Apache-2.0
//
// The `weir` binary given bad input on purpose: `weir savepoint -d` of a
// copied `_metadata` among other files, a savepoint whose file names point
// outside its directory, a `_metadata` that is a FIFO or a device, a
// savepoint target with a NUL byte over REST, and two `weir run` of one
// job at once. Each ends in one clear error with nothing stored lost, and
// the running job goes on.
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testutil/forge_metadata.h"
#include "tests/testutil/temp_dir.h"
#include "tests/tools/e2e/output_files.h"
#include "tests/tools/e2e/run_process.h"
#include "tests/tools/e2e/weir_job_fixture.h"
#include "tests/tools/e2e/weir_output.h"
#include "tools/control/rest_client.h"

namespace weir::e2e {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

class WeirAbuseTest : public e2e::WeirJobTest {
 protected:
  void SetUp() override {
    WeirJobTest::SetUp();
    std::string events;
    for (int i = 0; i < 300; ++i) {
      events += "user" + std::to_string(i % 7) + "," + std::to_string(i) + "\n";
    }
    Write(dir_.Sub("events.csv"), events);
  }

  // `weir run -d -c conf.yaml <args> sums.yaml`.
  Started Start(std::vector<std::string> args) {
    args.push_back("sums.yaml");
    return StartDetached(std::move(args));
  }

  // The pid the registry gives for job `id`.
  int64_t Pid(const std::string& id) {
    json j =
        json::parse(Slurp(dir_.Sub("runtime/" + id + ".json")), nullptr, false);
    return j.is_object() && j.contains("pid") ? j["pid"].get<int64_t>() : 0;
  }

  // The directory of the newest chk-N of job `id`, waiting for one.
  std::string WaitForCheckpoint(const std::string& id) {
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    for (;;) {
      const std::string meta = LatestCheckpoint(dir_.Sub("chk/" + id));
      if (!meta.empty()) return fs::path(meta).parent_path().string();
      if (Clock::now() > deadline) {
        ADD_FAILURE() << "no checkpoint of " << id;
        return "";
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  // A self-contained savepoint (the hashmap backend) of the job.
  std::string SelfContainedSavepoint() {
    const Started j = Start({"-D", "state.backend.type=hashmap"});
    WaitForCheckpoint(j.id);
    ProcessResult r = Weir({"cancel", "-s", "sp", j.id});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::string sp = After(r.out, "Savepoint stored in ");
    if (!sp.empty()) sp.pop_back();  // the trailing '.'
    WaitGone(j.id);
    return sp;
  }
};

TEST_F(WeirAbuseTest, DisposeDeletesOnlyWhatTheSavepointConsistsOf) {
  const std::string sp = SelfContainedSavepoint();
  ASSERT_FALSE(sp.empty());
  const std::string d = dir_.Sub("d");
  fs::create_directories(d + "/sub");
  Write(d + "/precious.txt", "precious\n");
  fs::copy_file(sp + "/_metadata", d + "/backup-of-savepoint.meta");
  const std::set<std::string> before = Tree(d);

  ExpectOneErrorLine(Weir({"savepoint", "-d", d + "/backup-of-savepoint.meta"}),
                     {"give its directory or its _metadata file"});
  EXPECT_EQ(Tree(d), before);
  // A directory that merely holds a copied `_metadata`.
  fs::copy_file(sp + "/_metadata", d + "/_metadata");
  ExpectOneErrorLine(Weir({"savepoint", "-d", d}), {"precious.txt"});
  EXPECT_EQ(Tree(d).size(), before.size() + 1);
  EXPECT_EQ(Slurp(d + "/precious.txt"), "precious\n");

  // The savepoint itself goes, and its parent stays.
  ProcessResult r = Weir({"savepoint", "-d", sp});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists(sp));
  EXPECT_TRUE(fs::is_directory(dir_.Sub("sp")));
}

TEST_F(WeirAbuseTest, FileNamesOutsideTheSavepointAreRefused) {
  const std::string sp = SelfContainedSavepoint();
  ASSERT_FALSE(sp.empty());
  // The name of one of its files, and an absolute one of the same length.
  std::string name;
  for (const auto& e : fs::recursive_directory_iterator(sp)) {
    if (e.is_regular_file() && e.path().filename() != "_metadata") {
      name = e.path().filename().string();
    }
  }
  ASSERT_GT(name.size(), 8u);
  std::mt19937_64 rng(std::random_device{}());
  std::string absolute = "/tmp/";
  while (absolute.size() < name.size()) absolute.push_back('a' + rng() % 26);
  ASSERT_FALSE(fs::exists(absolute));

  const std::string forged = dir_.Sub("forged");
  fs::copy(sp, forged, fs::copy_options::recursive);
  const std::string bytes =
      testutil::ForgeMetadata(Slurp(sp + "/_metadata"), name, absolute);
  ASSERT_FALSE(bytes.empty());
  Write(forged + "/_metadata", bytes);
  const std::set<std::string> before = Tree(dir_.path());

  ExpectOneErrorLine(Weir({"savepoint", "info", forged}),
                     {"is not a plain file name"});
  ExpectOneErrorLine(Weir({"run", "-c", "conf.yaml", "-s", forged, "-D",
                           "state.backend.type=hashmap", "sums.yaml"}),
                     {"is not a plain file name"});
  EXPECT_FALSE(fs::exists(absolute));
  // A failed run leaves the working directory's parent as it was.
  std::set<std::string> after = Tree(dir_.path());
  std::erase_if(after, [](const std::string& p) {
    return p.find("/runtime") != std::string::npos;
  });
  std::set<std::string> before_without_runtime = before;
  std::erase_if(before_without_runtime, [](const std::string& p) {
    return p.find("/runtime") != std::string::npos;
  });
  EXPECT_EQ(after, before_without_runtime);
}

TEST_F(WeirAbuseTest, AMetadataThatIsAFifoOrADeviceIsOneError) {
  const std::string fifo = dir_.Sub("fifo");
  fs::create_directories(fifo);
  ASSERT_EQ(::mkfifo((fifo + "/_metadata").c_str(), 0600), 0);
  const std::string zero = dir_.Sub("zero");
  fs::create_directories(zero);
  fs::create_symlink("/dev/zero", zero + "/_metadata");
  for (const std::string& bad : {fifo, zero}) {
    SCOPED_TRACE(bad);
    ExpectOneErrorLine(Weir({"savepoint", "info", bad}),
                       {"not a regular file"});
    ExpectOneErrorLine(Weir({"run", "-c", "conf.yaml", "-s", bad, "sums.yaml"}),
                       {"not a regular file"});
    ExpectOneErrorLine(Weir({"savepoint", "-d", bad}), {"not a regular file"});
  }
  EXPECT_TRUE(fs::is_symlink(zero + "/_metadata"));
}

TEST_F(WeirAbuseTest, ASavepointTargetWithANulByteIsA400AndTheJobGoesOn) {
  const Started j = Start({});
  ASSERT_GT(j.port, 0);
  WaitForCheckpoint(j.id);
  const std::string route = "/jobs/" + j.id + "/savepoints";
  Result<std::string> answer = tools::HttpPost(
      "127.0.0.1", j.port, route,
      R"({"target-directory": ")" + dir_.Sub("x/a") + R"(\u0000b"})");
  ASSERT_FALSE(answer.ok());
  EXPECT_TRUE(answer.status().IsInvalidArgument())
      << answer.status().ToString();
  EXPECT_THAT(std::string(answer.status().message()),
              HasSubstr("holds a NUL byte"));
  answer = tools::HttpPost("127.0.0.1", j.port, "/jobs/" + j.id + "/stop",
                           R"({"targetDirectory": "/tmp/\u0001x"})");
  EXPECT_TRUE(answer.status().IsInvalidArgument())
      << answer.status().ToString();
  EXPECT_FALSE(fs::exists(dir_.Sub("x")));

  // Not wedged: a savepoint still completes, and the job runs on.
  ProcessResult r = Weir({"savepoint", j.id, "sp"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Savepoint completed. Path: "));
  ASSERT_EQ(Weir({"cancel", j.id}).exit_code, 0);
  WaitGone(j.id);
}

TEST_F(WeirAbuseTest, TwoRunsOfOneJobCannotShareItsCheckpointStorage) {
  const Started first = Start({});
  ASSERT_FALSE(WaitForCheckpoint(first.id).empty());
  ASSERT_EQ(Weir({"cancel", first.id}).exit_code, 0);
  WaitGone(first.id);
  // The newest once it stopped (older ones are pruned).
  const std::string chk = WaitForCheckpoint(first.id);
  ASSERT_FALSE(chk.empty());

  // Resumed from the checkpoint: the same job id, the same storage. It
  // takes no checkpoint of its own, so `chk` stays.
  const std::string no_checkpoints = "execution.checkpointing.interval=1h";
  const Started resumed = Start({"-s", chk, "-D", no_checkpoints});
  ASSERT_EQ(resumed.id, first.id);
  const int64_t pid = Pid(resumed.id);
  ASSERT_GT(pid, 0);
  // Another run of it with its own registry and working directory.
  const std::set<std::string> before = Tree(dir_.Sub("chk"));
  ProcessResult r =
      Weir({"run", "-c", "conf.yaml", "-s", chk, "-D", no_checkpoints, "-D",
            "state.backend.local-dir=" + dir_.Sub("other"), "sums.yaml"},
           60, {"WEIR_RUNTIME_DIR=" + dir_.Sub("other-runtime")});
  ExpectOneErrorLine(r, {"is in use by process " + std::to_string(pid)});
  EXPECT_FALSE(fs::exists(dir_.Sub("other")));

  // SIGKILL frees the storage for the next run.
  ASSERT_EQ(::kill(static_cast<pid_t>(pid), SIGKILL), 0);
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  while (::kill(static_cast<pid_t>(pid), 0) == 0) {
    ASSERT_LT(Clock::now(), deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  fs::remove(dir_.Sub("runtime/" + resumed.id + ".json"));
  const Started again = Start({"-s", chk, "-D", no_checkpoints});
  EXPECT_EQ(again.id, first.id);
}

}  // namespace
}  // namespace weir::e2e
