// SPDX-License-Identifier: Apache-2.0
//
// `weir` run as a service: the configuration file ($WEIR_CONF_DIR/
// config.yaml) and its precedence, the log lines and -q/-v, and detached
// jobs that leave a log and a final state (`weir list -a`).
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/tools/e2e/output_files.h"
#include "tests/tools/e2e/run_process.h"
#include "tests/tools/e2e/weir_job_fixture.h"
#include "tests/tools/e2e/weir_output.h"

namespace weir::e2e {
namespace {

namespace fs = std::filesystem;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;
using ::testing::StartsWith;

// A TCP port of loopback that was free a moment ago.
int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

// A job that ends by itself, at once.
constexpr char kBoundedJob[] = R"(name: bounded
operators:
  - uid: gen
    type: generator
    count: 100
  - uid: out
    type: null-sink
)";

void AppendTo(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::app) << text;
}

class WeirServiceTest : public WeirJobTest {
 protected:
  // The job's entry in the registry of the fixture, read as JSON.
  nlohmann::json Entry(const std::string& path) {
    return nlohmann::json::parse(Slurp(path), nullptr, false);
  }

  // Waits until `weir list -a` shows `id` as terminated, and returns its
  // output.
  std::string WaitTerminated(const std::string& id) {
    std::string out;
    for (int i = 0; i < 600; ++i) {
      ProcessResult r = Weir({"list", "-a"});
      out = r.out;
      const size_t terminated = out.find("Terminated Jobs");
      if (terminated != std::string::npos &&
          out.find(id, terminated) != std::string::npos) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return out;
  }
};

// With rest.port and the directories in $WEIR_CONF_DIR/config.yaml, `weir
// run` needs no -c, and `weir list`, `savepoint` and `stop` find the job
// without -m, also from another user's registry (a service's job is not in
// the caller's registry).
TEST_F(WeirServiceTest, ConfigFileLetsTheCommandsFindTheJobWithoutFlags) {
  const int port = FreePort();
  ASSERT_GT(port, 0);
  Write(dir_.Sub("etc/config.yaml"),
        "rest.port: " + std::to_string(port) +
            "\nexecution.checkpointing:\n  dir: " + dir_.Sub("chk") +
            "\n  interval: 200ms\n  savepoint-dir: " + dir_.Sub("sp") + "\n");
  ProcessResult r = Weir({"run", "-d", "sums.yaml"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string id = After(r.out, "Job has been submitted with JobID ");
  ASSERT_EQ(id.size(), 32u) << r.out;
  started_.push_back(id);
  EXPECT_THAT(r.out, HasSubstr("REST endpoint: http://127.0.0.1:" +
                               std::to_string(port) + "\n"));
  EXPECT_THAT(
      r.out, HasSubstr("Configuration: " + dir_.Sub("etc/config.yaml") + "\n"));
  EXPECT_THAT(r.out, HasSubstr("Checkpoints: " + dir_.Sub("chk/" + id) + "\n"));
  EXPECT_THAT(r.out, HasSubstr("Savepoints: " + dir_.Sub("sp") + "\n"));
  EXPECT_THAT(r.out,
              HasSubstr("Logs: " + dir_.Sub("runtime/" + id + ".log") + "\n"));
  AppendTo(dir_.Sub("events.csv"), "alice,1\nbob,2\n");

  const std::vector<std::string> elsewhere = {"WEIR_RUNTIME_DIR=" +
                                              dir_.Sub("other-runtime")};
  r = Weir({"list"}, 60, elsewhere);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(id + " : sums (RUNNING)"));
  r = Weir({"savepoint", id}, 60, elsewhere);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("Savepoint completed. Path: " +
                                dir_.Sub("sp/savepoint-" + id.substr(0, 6))));
  r = Weir({"checkpoint", id}, 60, elsewhere);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Weir({"stop", id}, 60, elsewhere);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out,
              StartsWith("Savepoint completed. Path: " + dir_.Sub("sp")));
  ASSERT_NO_FATAL_FAILURE(WaitGone(id));

  // Without the file the other registry knows nothing of the job.
  r = Weir({"savepoint", id}, 60,
           {"WEIR_RUNTIME_DIR=" + dir_.Sub("other-runtime"),
            "WEIR_CONF_DIR=" + dir_.Sub("runtime")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("no running job " + id));
}

// -D over the job file's `config:` over the configuration file.
TEST_F(WeirServiceTest, CommandLineOverJobFileOverConfigFile) {
  Write(dir_.Sub("etc/config.yaml"),
        "rest.port: 0\nexecution.checkpointing.savepoint-dir: " +
            dir_.Sub("from-file") + "\n");
  const std::string job = kBoundedJob;
  Write(dir_.Sub("plain.yaml"), job);
  Write(dir_.Sub("configured.yaml"),
        "config:\n  execution.checkpointing.savepoint-dir: " +
            dir_.Sub("from-job") + "\n" + job);
  ProcessResult r = Weir({"run", "plain.yaml"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Savepoints: " + dir_.Sub("from-file") + "\n"));
  r = Weir({"run", "configured.yaml"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Savepoints: " + dir_.Sub("from-job") + "\n"));
  r = Weir({"run", "-D",
            "state.savepoints.dir=" + dir_.Sub("from-command-line"),
            "configured.yaml"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out,
              HasSubstr("Savepoints: " + dir_.Sub("from-command-line") + "\n"));
}

// A WEIR_CONF_DIR that does not exist, a malformed file, an unknown key:
// one error line and exit status 1, for every command.
TEST_F(WeirServiceTest, BadConfigurationIsOneErrorLine) {
  ProcessResult r =
      Weir({"list"}, 60, {"WEIR_CONF_DIR=" + dir_.Sub("no-such-dir")});
  ExpectOneErrorLine(r, {"WEIR_CONF_DIR=" + dir_.Sub("no-such-dir")});
  r = Weir({"run", "sums.yaml"}, 60,
           {"WEIR_CONF_DIR=" + dir_.Sub("no-such-dir")});
  ExpectOneErrorLine(r, {"WEIR_CONF_DIR="});

  Write(dir_.Sub("etc/config.yaml"), "rest.prot: 1\n");
  r = Weir({"savepoint", "0123456789abcdef0123456789abcdef"});
  ExpectOneErrorLine(r, {dir_.Sub("etc/config.yaml") + ":1:",
                         "unknown config key 'rest.prot'", "'rest.port'"});
  r = Weir({"run", "sums.yaml"});
  ExpectOneErrorLine(r, {"unknown config key 'rest.prot'"});
  Write(dir_.Sub("etc/config.yaml"), "rest: [1,\n");
  r = Weir({"list"});
  ExpectOneErrorLine(r, {dir_.Sub("etc/config.yaml") + ":"});
}

// -q shows warnings and errors only; -v adds debug lines. Both are valid
// before and after the command. Answers stay on stdout.
TEST_F(WeirServiceTest, QuietSilencesInfoLinesAndVerboseAddsDebugLines) {
  Write(dir_.Sub("bounded.yaml"), kBoundedJob);
  ProcessResult r =
      Weir({"run", "-c", "conf.yaml", "--resume", "bounded.yaml"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, MatchesRegex(LogLinePrefix("INFO ") +
                                  "No checkpoint of job 'bounded' in [^\n]*: "
                                  "starting fresh\n"));
  EXPECT_THAT(r.out, HasSubstr("Job has been submitted with JobID "));
  EXPECT_THAT(r.out, HasSubstr("Logs: stderr\n"));

  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{
           {"-q", "run", "-c", "conf.yaml", "--resume", "bounded.yaml"},
           {"run", "-q", "-c", "conf.yaml", "--resume", "bounded.yaml"},
           {"run", "-c", "conf.yaml", "--resume", "--quiet", "bounded.yaml"}}) {
    fs::remove_all(dir_.Sub("chk"));
    r = Weir(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    EXPECT_THAT(r.out, HasSubstr("Job has been submitted with JobID "));
    EXPECT_THAT(r.out, HasSubstr(" finished.\n"));
  }

  // Errors show with -q.
  r = Weir({"-q", "cancel", "0123456789abcdef0123456789abcdef"});
  ExpectOneErrorLine(r, {"no running job"});

  r = Weir({"-v", "list"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "No running jobs.\n");
  r = Weir({"list", "--verbose"}, 60,
           {"WEIR_CONF_DIR=" + dir_.path()});  // holds no config.yaml
  ASSERT_EQ(r.exit_code, 0) << r.err;

  Write(dir_.Sub("etc/config.yaml"), "rest.port: 1\n");
  r = Weir({"-v", "cancel", "0123456789abcdef0123456789abcdef"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err,
              ContainsRegex(LogLinePrefix("DEBUG") + "configuration file: " +
                            dir_.Sub("etc/config.yaml")));
  EXPECT_THAT(r.err, ContainsRegex(LogLinePrefix("DEBUG") +
                                   "no running job [^\n]*; asking "
                                   "127\\.0\\.0\\.1:1 "));
  EXPECT_THAT(r.err, ContainsRegex(LogLinePrefix("ERROR") +
                                   "cannot reach weir at 127\\.0\\.0\\.1:1"));

  r = Weir({"-q", "-v", "list"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("excludes"));
}

// A detached job writes its output to <registry>/<jobid>.log; when it
// fails, `weir list -a` shows it FAILED with the error and the log, which
// holds the error too.
TEST_F(WeirServiceTest, ADetachedJobThatFailsIsListedWithItsLog) {
  Write(dir_.Sub("events.csv"), "alice,1\nbob,not-a-number\n");
  const Started j = StartDetached({"sums.yaml"});
  ASSERT_EQ(j.id.size(), 32u);
  const std::string log = dir_.Sub("runtime/" + j.id + ".log");
  EXPECT_THAT(j.out, HasSubstr("Logs: " + log + "\n"));
  ASSERT_NO_FATAL_FAILURE(WaitGone(j.id));

  const std::string list = WaitTerminated(j.id);
  EXPECT_THAT(list, HasSubstr("No running jobs.\n"));
  EXPECT_THAT(list, HasSubstr(j.id + " : sums (FAILED)\n"));
  EXPECT_THAT(list, HasSubstr("exit code 1: job " + j.id + " failed: "));
  EXPECT_THAT(list, HasSubstr("events.csv:2"));
  EXPECT_THAT(list, HasSubstr("    log: " + log + "\n"));
  // Without -a: running jobs only.
  EXPECT_EQ(Weir({"list"}).out, "No running jobs.\n");

  const std::string text = Slurp(log);
  EXPECT_THAT(text, ContainsRegex(LogLinePrefix("ERROR") + "job " + j.id +
                                  " failed: [^\n]*events\\.csv:2"));
  const nlohmann::json ended =
      Entry(dir_.Sub("runtime/ended/" + j.id + ".json"));
  ASSERT_TRUE(ended.is_object());
  EXPECT_EQ(ended["state"], "FAILED");
  EXPECT_EQ(ended["exit-code"], 1);
  EXPECT_EQ(ended["log"], log);
}

// A detached job killed with SIGKILL recorded nothing: `weir list -a` shows
// it LOST, with a note and its log. One that is cancelled shows CANCELED.
TEST_F(WeirServiceTest, KilledAndCancelledDetachedJobsAreListed) {
  const Started killed = StartDetached({"sums.yaml"});
  ASSERT_EQ(killed.id.size(), 32u);
  const nlohmann::json entry =
      Entry(dir_.Sub("runtime/" + killed.id + ".json"));
  ASSERT_TRUE(entry.is_object());
  const pid_t pid = entry["pid"].get<pid_t>();
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  for (int i = 0; i < 250 && kill(pid, 0) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::string list = WaitTerminated(killed.id);
  EXPECT_THAT(list, HasSubstr(killed.id + " : sums (LOST)\n"));
  EXPECT_THAT(list, HasSubstr("process " + std::to_string(pid) +
                              " is gone and recorded no final state"));
  EXPECT_THAT(list,
              HasSubstr("log: " + dir_.Sub("runtime/" + killed.id + ".log")));

  const Started cancelled = StartDetached({"sums.yaml"});
  ASSERT_EQ(cancelled.id.size(), 32u);
  ASSERT_EQ(Weir({"cancel", cancelled.id}).exit_code, 0);
  ASSERT_NO_FATAL_FAILURE(WaitGone(cancelled.id));
  list = WaitTerminated(cancelled.id);
  EXPECT_THAT(list, HasSubstr(cancelled.id + " : sums (CANCELED)\n"));
  EXPECT_THAT(list, HasSubstr("exit code 2"));
  EXPECT_THAT(list, HasSubstr(killed.id + " : sums (LOST)\n"));
}

// The systemd unit's cycle: `weir run --resume`, stopped with a savepoint
// (`weir stop`, as SIGTERM with execution.stop-on-signal: savepoint does),
// resumed with --resume from that savepoint, not from the older checkpoint
// (which would repeat the records the stop published); then killed and
// resumed from the newest checkpoint of the resumed job. Every record is
// counted once.
TEST_F(WeirServiceTest, ResumeGoesOnFromTheSavepointOfAStop) {
  const std::vector<std::string> run = {
      "run",      "-d",
      "-c",       "conf.yaml",
      "-D",       "execution.checkpointing.savepoint-dir=" + dir_.Sub("sp"),
      "--resume", "sums.yaml"};
  auto start = [&]() {
    ProcessResult r = Weir(run);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const std::string id = After(r.out, "Job has been submitted with JobID ");
    if (!id.empty()) started_.push_back(id);
    return std::make_pair(id, r.err);
  };
  // The last total of each user in the committed output.
  auto totals = [&]() {
    std::map<std::string, int64_t> last;
    for (const auto& [line, n] : Committed(dir_.Sub("out"))) {
      const size_t comma = line.find(',');
      const int64_t total = std::stoll(line.substr(comma + 1));
      int64_t& t = last[line.substr(0, comma)];
      t = std::max(t, total);
    }
    return last;
  };
  auto wait_lines = [&](int64_t lines) {
    for (int i = 0; i < 600 && Count(Committed(dir_.Sub("out"))) < lines; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_EQ(Count(Committed(dir_.Sub("out"))), lines);
  };

  AppendTo(dir_.Sub("events.csv"), "alice,1\nbob,2\n");
  auto [first, err1] = start();
  ASSERT_EQ(first.size(), 32u);
  EXPECT_THAT(err1, HasSubstr("starting fresh"));
  ASSERT_NO_FATAL_FAILURE(wait_lines(2));
  ProcessResult r = Weir({"-q", "stop", first});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string sp = After(r.out, "Savepoint completed. Path: ");
  ASSERT_NO_FATAL_FAILURE(WaitGone(first));

  AppendTo(dir_.Sub("events.csv"), "alice,3\n");
  auto [second, err2] = start();
  ASSERT_EQ(second.size(), 32u);
  EXPECT_NE(second, first);  // a job started from a savepoint: a new id
  EXPECT_THAT(err2, HasSubstr("Restoring job " + second + " from savepoint " +
                              sp + "/_metadata\n"));
  ASSERT_NO_FATAL_FAILURE(wait_lines(3));

  // Killed after a checkpoint of its own: resumed from that checkpoint.
  const std::string chk_root = dir_.Sub("chk/" + second);
  for (int i = 0; i < 200 && LatestCheckpoint(chk_root).empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_FALSE(LatestCheckpoint(chk_root).empty());
  const nlohmann::json entry = Entry(dir_.Sub("runtime/" + second + ".json"));
  ASSERT_TRUE(entry.is_object());
  const pid_t pid = entry["pid"].get<pid_t>();
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  for (int i = 0; i < 250 && kill(pid, 0) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  AppendTo(dir_.Sub("events.csv"), "bob,4\n");
  auto [third, err3] = start();
  EXPECT_EQ(third, second);  // a checkpoint keeps the job's id
  EXPECT_THAT(err3, HasSubstr("Restoring job " + second + " from " + chk_root +
                              "/chk-"));
  ASSERT_NO_FATAL_FAILURE(wait_lines(4));
  EXPECT_EQ(totals(),
            (std::map<std::string, int64_t>{{"alice", 4}, {"bob", 6}}));
}

}  // namespace
}  // namespace weir::e2e
