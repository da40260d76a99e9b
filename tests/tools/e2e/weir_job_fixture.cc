// SPDX-License-Identifier: Apache-2.0
#include "tests/tools/e2e/weir_job_fixture.h"

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "tests/tools/e2e/output_files.h"
#include "tests/tools/e2e/weir_output.h"

namespace weir::e2e {

namespace fs = std::filesystem;

std::string SumsJob(bool follow, const std::string& out) {
  return std::string(R"(name: sums
max-parallelism: 128
operators:
  - uid: events
    type: file-source
    path: events.csv
    format: csv
    follow: )") +
         (follow ? "true" : "false") + R"(
    schema: [user:string, amount:int64]
  - uid: totals
    type: sum
    key: user
    field: amount
  - uid: out
    type: file-sink
    path: )" +
         out + R"(
    format: csv
)";
}

std::string LatestCheckpoint(const std::string& root) {
  std::string best;
  int64_t best_id = -1;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind("chk-", 0) != 0) continue;
    const std::string meta = it->path().string() + "/_metadata";
    if (!fs::exists(meta)) continue;
    const int64_t id = std::atoll(name.c_str() + 4);
    if (id > best_id) {
      best_id = id;
      best = meta;
    }
  }
  return best;
}

void WeirJobTest::SetUp() {
  dir_.Create();
  // An empty configuration directory: a configuration file on this machine
  // (/etc/weir/config.yaml) changes nothing here.
  fs::create_directories(dir_.Sub("etc"));
  env_ = {"WEIR_RUNTIME_DIR=" + dir_.Sub("runtime"), "TMPDIR=" + dir_.path(),
          "WEIR_CONF_DIR=" + dir_.Sub("etc")};
  Write(dir_.Sub("sums.yaml"), SumsJob(/*follow=*/true, "out"));
  Write(dir_.Sub("conf.yaml"),
        "rest.port: 0\nexecution.checkpointing.dir: " + dir_.Sub("chk") +
            "\nexecution.checkpointing.interval: 200ms\n");
  Write(dir_.Sub("events.csv"), "");
}

void WeirJobTest::TearDown() {
  for (const std::string& id : started_) {
    if (fs::exists(dir_.Sub("runtime/" + id + ".json"))) {
      Weir({"cancel", id});
      WaitGone(id);
    }
  }
}

ProcessResult WeirJobTest::Weir(std::vector<std::string> args, int timeout_s,
                                std::vector<std::string> env) {
  args.insert(args.begin(), WeirBinary());
  env.insert(env.begin(), env_.begin(), env_.end());
  return e2e::Run(args, dir_.path(), env, timeout_s);
}

WeirJobTest::Started WeirJobTest::StartDetached(std::vector<std::string> args) {
  args.insert(args.begin(), {"run", "-d", "-c", "conf.yaml"});
  ProcessResult r = Weir(args);
  Started s;
  s.out = r.out;
  s.err = r.err;
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  s.id = After(r.out, "Job has been submitted with JobID ");
  EXPECT_EQ(s.id.size(), 32u) << r.out;
  const std::string port = After(r.out, "REST endpoint: http://127.0.0.1:");
  s.port = port.empty() ? 0 : std::stoi(port);
  if (!s.id.empty()) started_.push_back(s.id);
  return s;
}

void WeirJobTest::WaitGone(const std::string& id) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (fs::exists(dir_.Sub("runtime/" + id + ".json"))) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline)
        << "job " << id << " did not end";
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace weir::e2e
