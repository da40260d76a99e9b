// SPDX-License-Identifier: Apache-2.0
#include "tools/control/job_registry.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "lib/file.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/temp_dir.h"

namespace weir::tools {
namespace {

using ::testing::HasSubstr;
using testutil::StatusIs;

constexpr char kJobA[] = "0123456789abcdef0123456789abcdef";
constexpr char kJobB[] = "fedcba9876543210fedcba9876543210";

JobId IdOf(std::string_view hex) {
  return JobId::FromHex(hex).value_or(JobId());
}

// Sets (or unsets, for nullopt) an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      ::setenv(name, value->c_str(), 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

RegistryEntry Entry(std::string_view hex, int64_t pid, int64_t start) {
  RegistryEntry e;
  e.job_id = IdOf(hex);
  e.name = "job " + std::string(hex.substr(0, 4));
  e.pid = pid;
  e.rest_address = "127.0.0.1";
  e.rest_port = 8081;
  e.start_time_ms = start;
  return e;
}

// The pid of a process that has exited and been reaped.
int64_t DeadPid() {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  EXPECT_EQ(::waitpid(child, &status, 0), child);
  return child;
}

class JobRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.Create();
    env_.emplace("WEIR_RUNTIME_DIR", dir_.Sub("runtime"));
    ASSERT_OK_AND_ASSIGN(JobRegistry registry, JobRegistry::OpenDefault());
    registry_.emplace(std::move(registry));
  }

  testutil::TestDir dir_;
  std::optional<ScopedEnv> env_;
  std::optional<JobRegistry> registry_;
};

TEST_F(JobRegistryTest, UsesWeirRuntimeDirPrivately) {
  EXPECT_EQ(registry_->dir(), dir_.Sub("runtime"));
  struct stat st;
  ASSERT_EQ(::stat(registry_->dir().c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST_F(JobRegistryTest, RegisterListFindUnregister) {
  const int64_t me = ::getpid();
  ASSERT_OK(registry_->Register(Entry(kJobB, me, 2000)));
  RegistryEntry a = Entry(kJobA, me, 1000);
  a.name = "word count";
  a.rest_address = "::1";
  a.rest_port = 45678;
  ASSERT_OK(registry_->Register(a));
  EXPECT_TRUE(
      std::filesystem::exists(registry_->dir() + "/" + kJobA + ".json"));

  ASSERT_OK_AND_ASSIGN(std::vector<RegistryEntry> all, registry_->List());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].job_id, IdOf(kJobA));  // older first
  EXPECT_EQ(all[1].job_id, IdOf(kJobB));

  ASSERT_OK_AND_ASSIGN(RegistryEntry found, registry_->Find(IdOf(kJobA)));
  EXPECT_EQ(found.name, "word count");
  EXPECT_EQ(found.pid, me);
  EXPECT_EQ(found.rest_address, "::1");
  EXPECT_EQ(found.rest_port, 45678);
  EXPECT_EQ(found.start_time_ms, 1000);

  ASSERT_OK(registry_->Unregister(IdOf(kJobA)));
  ASSERT_OK(registry_->Unregister(IdOf(kJobA)));  // idempotent
  EXPECT_THAT(registry_->Find(IdOf(kJobA)),
              StatusIs(Status::Code::kNotFound,
                       HasSubstr(std::string("no running job ") + kJobA +
                                 " on this host (looked in " +
                                 registry_->dir() + ")")));
  ASSERT_OK_AND_ASSIGN(all, registry_->List());
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].job_id, IdOf(kJobB));
}

TEST_F(JobRegistryTest, RegisterReplacesTheEntry) {
  ASSERT_OK(registry_->Register(Entry(kJobA, ::getpid(), 1)));
  RegistryEntry moved = Entry(kJobA, ::getpid(), 1);
  moved.rest_port = 9999;
  ASSERT_OK(registry_->Register(moved));
  ASSERT_OK_AND_ASSIGN(RegistryEntry found, registry_->Find(IdOf(kJobA)));
  EXPECT_EQ(found.rest_port, 9999);
}

TEST_F(JobRegistryTest, DeadProcessIsDroppedAndDeleted) {
  const int64_t dead = DeadPid();
  ASSERT_OK(registry_->Register(Entry(kJobA, dead, 1)));
  ASSERT_OK(registry_->Register(Entry(kJobB, ::getpid(), 2)));
  ASSERT_OK_AND_ASSIGN(std::vector<RegistryEntry> all, registry_->List());
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].job_id, IdOf(kJobB));
  EXPECT_FALSE(
      std::filesystem::exists(registry_->dir() + "/" + kJobA + ".json"));

  ASSERT_OK(registry_->Register(Entry(kJobA, dead, 1)));
  EXPECT_THAT(registry_->Find(IdOf(kJobA)), StatusIs(Status::Code::kNotFound));
  EXPECT_FALSE(
      std::filesystem::exists(registry_->dir() + "/" + kJobA + ".json"));
}

TEST_F(JobRegistryTest, RecordEndKeepsTheFinalStateAndRemovesTheRunningEntry) {
  RegistryEntry a = Entry(kJobA, ::getpid(), 1000);
  a.log_path = registry_->LogPathOf(IdOf(kJobA));
  ASSERT_OK(registry_->Register(a));
  EndedEntry ended;
  ended.entry = a;
  ended.state = "FAILED";
  ended.end_time_ms = 5000;
  ended.exit_code = 1;
  ended.message = "job failed: events.csv:2: bad record";
  ASSERT_OK(registry_->RecordEnd(ended));
  EXPECT_FALSE(
      std::filesystem::exists(registry_->dir() + "/" + kJobA + ".json"));
  EXPECT_TRUE(
      std::filesystem::exists(registry_->dir() + "/ended/" + kJobA + ".json"));
  EXPECT_THAT(registry_->Find(IdOf(kJobA)), StatusIs(Status::Code::kNotFound));
  ASSERT_OK_AND_ASSIGN(std::vector<RegistryEntry> running, registry_->List());
  EXPECT_TRUE(running.empty());

  ASSERT_OK_AND_ASSIGN(std::vector<EndedEntry> all, registry_->ListEnded());
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].entry.job_id, IdOf(kJobA));
  EXPECT_EQ(all[0].entry.name, a.name);
  EXPECT_EQ(all[0].entry.start_time_ms, 1000);
  EXPECT_EQ(all[0].entry.log_path, registry_->dir() + "/" + kJobA + ".log");
  EXPECT_EQ(all[0].state, "FAILED");
  EXPECT_EQ(all[0].end_time_ms, 5000);
  EXPECT_EQ(all[0].exit_code, 1);
  EXPECT_EQ(all[0].message, ended.message);
}

TEST_F(JobRegistryTest, RecordEndLeavesTheEntryOfANewerRun) {
  RegistryEntry old_run = Entry(kJobA, ::getpid(), 1000);
  RegistryEntry new_run = Entry(kJobA, ::getpid(), 2000);
  ASSERT_OK(registry_->Register(new_run));  // resumed meanwhile
  EndedEntry ended;
  ended.entry = old_run;
  ended.state = "CANCELED";
  ended.exit_code = 2;
  ASSERT_OK(registry_->RecordEnd(ended));
  ASSERT_OK_AND_ASSIGN(RegistryEntry found, registry_->Find(IdOf(kJobA)));
  EXPECT_EQ(found.start_time_ms, 2000);
}

TEST_F(JobRegistryTest, RecordEndRefusesBadStates) {
  EndedEntry ended;
  ended.entry = Entry(kJobA, ::getpid(), 1);
  ended.state = "RUNNING";
  EXPECT_THAT(registry_->RecordEnd(ended),
              StatusIs(Status::Code::kInvalidArgument));
  ended.state = "FINISHED";
  ended.entry.pid = 0;
  EXPECT_THAT(registry_->RecordEnd(ended),
              StatusIs(Status::Code::kInvalidArgument));
}

TEST_F(JobRegistryTest, AKilledProcessIsListedAsLost) {
  const int64_t dead = DeadPid();
  RegistryEntry a = Entry(kJobA, dead, 1000);
  a.log_path = registry_->LogPathOf(IdOf(kJobA));
  ASSERT_OK(registry_->Register(a));
  ASSERT_OK_AND_ASSIGN(std::vector<EndedEntry> all, registry_->ListEnded());
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].state, "LOST");
  EXPECT_EQ(all[0].exit_code, -1);
  EXPECT_THAT(all[0].message,
              HasSubstr("process " + std::to_string(dead) + " is gone"));
  EXPECT_EQ(all[0].entry.log_path, a.log_path);
  EXPECT_GT(all[0].end_time_ms, 0);
  // The running entry is gone; listing again keeps the LOST one as it was.
  EXPECT_FALSE(
      std::filesystem::exists(registry_->dir() + "/" + kJobA + ".json"));
  ASSERT_OK_AND_ASSIGN(std::vector<EndedEntry> again, registry_->ListEnded());
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].end_time_ms, all[0].end_time_ms);
}

TEST_F(JobRegistryTest, ARecordedEndIsNotTurnedIntoLost) {
  // The process recorded its end and died before removing its entry.
  const int64_t dead = DeadPid();
  RegistryEntry a = Entry(kJobA, dead, 1000);
  ASSERT_OK(registry_->Register(Entry(kJobA, ::getpid(), 1000)));
  EndedEntry ended;
  ended.entry = a;
  ended.state = "FINISHED";
  ended.exit_code = 0;
  ended.end_time_ms = 3000;
  ASSERT_OK(registry_->RecordEnd(ended));  // another pid: entry stays
  ASSERT_OK(registry_->Register(a));
  ASSERT_OK_AND_ASSIGN(std::vector<EndedEntry> all, registry_->ListEnded());
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].state, "FINISHED");
  EXPECT_FALSE(
      std::filesystem::exists(registry_->dir() + "/" + kJobA + ".json"));
}

TEST_F(JobRegistryTest, KeepsTheLastHundredEndedJobsAndTheirLogs) {
  std::vector<JobId> ids;
  for (size_t i = 0; i < kMaxEndedEntries + 5; ++i) {
    char hex[33];
    std::snprintf(hex, sizeof(hex), "%032zx", i + 1);
    RegistryEntry e = Entry(hex, ::getpid(), 1);
    e.log_path = registry_->LogPathOf(e.job_id);
    ASSERT_OK(WriteFileUnsynced(e.log_path, "log of " + std::string(hex)));
    EndedEntry ended;
    ended.entry = e;
    ended.state = "FINISHED";
    ended.exit_code = 0;
    ended.end_time_ms = 1000 + static_cast<int64_t>(i);
    ASSERT_OK(registry_->RecordEnd(ended));
    ids.push_back(e.job_id);
  }
  // Files the registry did not write are left alone.
  ASSERT_OK(WriteFileUnsynced(registry_->dir() + "/ended/notes.json", "{}"));
  ASSERT_OK(WriteFileUnsynced(registry_->dir() + "/notes.log", "mine"));
  ASSERT_OK_AND_ASSIGN(std::vector<EndedEntry> all, registry_->ListEnded());
  ASSERT_EQ(all.size(), kMaxEndedEntries);
  EXPECT_EQ(all.front().entry.job_id, ids[5]);  // the oldest five are gone
  EXPECT_EQ(all.back().entry.job_id, ids.back());
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(std::filesystem::exists(registry_->LogPathOf(ids[i])), i >= 5)
        << i;
  }
  EXPECT_TRUE(std::filesystem::exists(registry_->dir() + "/ended/notes.json"));
  EXPECT_TRUE(std::filesystem::exists(registry_->dir() + "/notes.log"));
}

TEST_F(JobRegistryTest, ForgedEndedEntriesAreSkipped) {
  ASSERT_OK(CreateDirs(registry_->dir() + "/ended"));
  const std::string path = registry_->dir() + "/ended/" + kJobA + ".json";
  for (
      const char* text :
      {"{", "[]", R"({"jid":"0123456789abcdef0123456789abcdef"})",
       // Not its file's job.
       R"({"jid":"fedcba9876543210fedcba9876543210","name":"x","pid":1,"rest-address":"a","rest-port":1,"start-time":1,"state":"FAILED","end-time":1,"exit-code":1,"message":""})",
       // A state that is not an end.
       R"({"jid":"0123456789abcdef0123456789abcdef","name":"x","pid":1,"rest-address":"a","rest-port":1,"start-time":1,"state":"RUNNING","end-time":1,"exit-code":1,"message":""})",
       // An exit code no process has.
       R"({"jid":"0123456789abcdef0123456789abcdef","name":"x","pid":1,"rest-address":"a","rest-port":1,"start-time":1,"state":"FAILED","end-time":1,"exit-code":900,"message":""})"}) {
    ASSERT_OK(WriteFileUnsynced(path, text));
    ASSERT_OK_AND_ASSIGN(std::vector<EndedEntry> all, registry_->ListEnded());
    EXPECT_TRUE(all.empty()) << text;
  }
}

TEST_F(JobRegistryTest, GarbageFilesAreSkipped) {
  ASSERT_OK(registry_->Register(Entry(kJobB, ::getpid(), 2)));
  const std::string d = registry_->dir() + "/";
  ASSERT_OK(AtomicWriteFile(d + kJobA + ".json", "garbage {"));
  ASSERT_OK(AtomicWriteFile(d + "notes.txt", "hello"));
  ASSERT_OK(AtomicWriteFile(d + "not-a-job-id.json", "{}"));
  ASSERT_OK(AtomicWriteFile(d + "ffffffffffffffffffffffffffffffff.json",
                            "{\"jid\":\"ffffffffffffffffffffffffffffffff\","
                            "\"name\":\"x\",\"pid\":0,\"rest-address\":\"h\","
                            "\"rest-port\":1,\"start-time\":0}"));
  // An entry whose jid is not its file's name.
  ASSERT_OK(AtomicWriteFile(d + "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee.json",
                            "{\"jid\":\"" + std::string(kJobB) +
                                "\",\"name\":\"x\",\"pid\":1,"
                                "\"rest-address\":\"h\",\"rest-port\":1,"
                                "\"start-time\":0}"));
  std::filesystem::create_directory(d +
                                    "dddddddddddddddddddddddddddddddd.json");

  ASSERT_OK_AND_ASSIGN(std::vector<RegistryEntry> all, registry_->List());
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].job_id, IdOf(kJobB));
  EXPECT_THAT(registry_->Find(IdOf(kJobA)), StatusIs(Status::Code::kNotFound));
  // Garbage is left alone; only entries of dead processes are deleted.
  EXPECT_TRUE(std::filesystem::exists(d + kJobA + ".json"));
}

TEST_F(JobRegistryTest, RegisterRejectsBadEntries) {
  EXPECT_THAT(registry_->Register(Entry(kJobA, 0, 1)),
              StatusIs(Status::Code::kInvalidArgument));
  EXPECT_THAT(registry_->Register(Entry(kJobA, -1, 1)),
              StatusIs(Status::Code::kInvalidArgument));
  RegistryEntry no_port = Entry(kJobA, ::getpid(), 1);
  no_port.rest_port = 0;
  EXPECT_THAT(registry_->Register(no_port),
              StatusIs(Status::Code::kInvalidArgument));
  EXPECT_THAT(registry_->Register(RegistryEntry{}),
              StatusIs(Status::Code::kInvalidArgument));
}

TEST_F(JobRegistryTest, RefusesAFileAsDirectory) {
  ASSERT_OK(AtomicWriteFile(dir_.Sub("file"), "x"));
  EXPECT_THAT(
      JobRegistry::Open(dir_.Sub("file")),
      StatusIs(Status::Code::kInvalidArgument, HasSubstr("not a directory")));
}

TEST_F(JobRegistryTest, TightensAnOpenMode) {
  ASSERT_EQ(::mkdir(dir_.Sub("loose").c_str(), 0755), 0);
  ASSERT_OK(JobRegistry::Open(dir_.Sub("loose")));
  struct stat st;
  ASSERT_EQ(::stat(dir_.Sub("loose").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST_F(JobRegistryTest, RefusesADirectoryOfAnotherUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to chown";
  const std::string theirs = dir_.Sub("theirs");
  ASSERT_EQ(::mkdir(theirs.c_str(), 0700), 0);
  ASSERT_EQ(::chown(theirs.c_str(), 65534, 65534), 0);
  EXPECT_THAT(JobRegistry::Open(theirs),
              StatusIs(Status::Code::kInvalidArgument,
                       HasSubstr("owned by uid 65534")));
}

TEST_F(JobRegistryTest, RefusesASymlinkUnlessChosen) {
  const std::string target = dir_.Sub("target");
  const std::string link = dir_.Sub("link");
  ASSERT_EQ(::mkdir(target.c_str(), 0700), 0);
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  EXPECT_THAT(JobRegistry::Open(link),
              StatusIs(Status::Code::kInvalidArgument, HasSubstr("symbolic")));
  ScopedEnv chosen("WEIR_RUNTIME_DIR", link);
  EXPECT_OK(JobRegistry::OpenDefault());
}

TEST(JobRegistryDir, FollowsTheEnvironment) {
  {
    ScopedEnv weir("WEIR_RUNTIME_DIR", "/x/weir-dir");
    ScopedEnv xdg("XDG_RUNTIME_DIR", "/run/user/1000");
    EXPECT_EQ(DefaultRegistryDir(), "/x/weir-dir");
  }
  {
    ScopedEnv weir("WEIR_RUNTIME_DIR", std::nullopt);
    ScopedEnv xdg("XDG_RUNTIME_DIR", "/run/user/1000");
    EXPECT_EQ(DefaultRegistryDir(), "/run/user/1000/weir");
  }
  {
    ScopedEnv weir("WEIR_RUNTIME_DIR", "");
    ScopedEnv xdg("XDG_RUNTIME_DIR", std::nullopt);
    EXPECT_EQ(DefaultRegistryDir(), "/tmp/weir-" + std::to_string(::geteuid()));
  }
}

TEST(ParseHostPort, AcceptsHostPortForms) {
  ASSERT_OK_AND_ASSIGN(HostPort hp, ParseHostPort("localhost:8081"));
  EXPECT_EQ(hp.host, "localhost");
  EXPECT_EQ(hp.port, 8081);
  ASSERT_OK_AND_ASSIGN(hp, ParseHostPort("127.0.0.1:1"));
  EXPECT_EQ(hp.host, "127.0.0.1");
  EXPECT_EQ(hp.port, 1);
  ASSERT_OK_AND_ASSIGN(hp, ParseHostPort("[::1]:65535"));
  EXPECT_EQ(hp.host, "::1");
  EXPECT_EQ(hp.port, 65535);
  ASSERT_OK_AND_ASSIGN(hp, ParseHostPort("http://box.local:8081/"));
  EXPECT_EQ(hp.host, "box.local");
  EXPECT_EQ(hp.port, 8081);
}

TEST(ParseHostPort, RejectsBadForms) {
  for (const char* bad :
       {"", "localhost", "localhost:", ":8081", "host:0", "host:65536",
        "host:80a", "host:-1", "host:+80", "::1:8081", "[::1]", "[::1]8081",
        "host:123456", "http://"}) {
    EXPECT_THAT(ParseHostPort(bad), StatusIs(Status::Code::kInvalidArgument))
        << "'" << bad << "'";
  }
  EXPECT_THAT(ParseHostPort("box"),
              StatusIs(Status::Code::kInvalidArgument, HasSubstr("'box'")));
}

}  // namespace
}  // namespace weir::tools
