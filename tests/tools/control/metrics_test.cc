// SPDX-License-Identifier: Apache-2.0
#include "tools/control/metrics.h"

#include <cctype>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace weir::tools {
namespace {

using ::testing::HasSubstr;

constexpr char kJobHex[] = "0123456789abcdef0123456789abcdef";

// One sample line, read back.
struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;  // unescaped values
  double value = 0;
};

bool IsNameChar(char ch, bool first) {
  return std::isalpha(static_cast<unsigned char>(ch)) || ch == '_' ||
         ch == ':' || (!first && std::isdigit(static_cast<unsigned char>(ch)));
}

// Reads `text` as the text exposition format: every line is
// "# HELP name text", "# TYPE name type" or "name{l="v",...} value". Fails
// the test (and returns what it read) on any other line, a sample whose
// family has no TYPE, a family declared twice, or a family's samples not
// contiguous.
void ParseBack(const std::string& text,
               std::map<std::string, std::string>* types,
               std::vector<Sample>* out) {
  std::vector<Sample>& samples = *out;
  EXPECT_TRUE(text.empty() || text.back() == '\n');
  std::istringstream in(text);
  std::string line;
  std::string current_family;
  std::set<std::string> closed_families;
  while (std::getline(in, line)) {
    SCOPED_TRACE(line);
    if (line.rfind("# HELP ", 0) == 0) continue;
    if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream words(line.substr(7));
      std::string name, type, extra;
      words >> name >> type;
      EXPECT_FALSE(words >> extra);
      EXPECT_THAT((std::set<std::string>{"counter", "gauge", "histogram",
                                         "summary", "untyped"}),
                  ::testing::Contains(type));
      EXPECT_FALSE(types->contains(name)) << "declared twice";
      (*types)[name] = type;
      if (!current_family.empty()) closed_families.insert(current_family);
      current_family = name;
      continue;
    }
    ASSERT_FALSE(line.empty() || line[0] == '#') << "unexpected line";
    Sample s;
    size_t i = 0;
    while (i < line.size() && IsNameChar(line[i], i == 0)) ++i;
    s.name = line.substr(0, i);
    ASSERT_FALSE(s.name.empty());
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        size_t start = i;
        while (i < line.size() && IsNameChar(line[i], i == start)) ++i;
        const std::string label = line.substr(start, i - start);
        ASSERT_FALSE(label.empty());
        ASSERT_TRUE(line.compare(i, 2, "=\"") == 0);
        i += 2;
        std::string value;
        while (i < line.size() && line[i] != '"') {
          if (line[i] == '\\') {
            ASSERT_LT(i + 1, line.size());
            const char esc = line[i + 1];
            ASSERT_TRUE(esc == '\\' || esc == '"' || esc == 'n');
            value += esc == 'n' ? '\n' : esc;
            i += 2;
          } else {
            value += line[i++];
          }
        }
        ASSERT_LT(i, line.size());
        ++i;  // closing quote
        EXPECT_FALSE(s.labels.contains(label));
        s.labels[label] = value;
        if (i < line.size() && line[i] == ',') ++i;
      }
      ASSERT_LT(i, line.size());
      ++i;  // '}'
    }
    ASSERT_LT(i, line.size());
    ASSERT_EQ(line[i], ' ');
    const std::string value = line.substr(i + 1);
    if (value == "+Inf" || value == "-Inf" || value == "NaN") {
      s.value = value == "+Inf" ? 1e308 : value == "-Inf" ? -1e308 : 0;
    } else {
      char* end = nullptr;
      s.value = std::strtod(value.c_str(), &end);
      ASSERT_TRUE(end != nullptr && *end == '\0') << "bad value " << value;
    }
    // The family: the name, or for a histogram the name without its suffix.
    std::string family = s.name;
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      const std::string suf(suffix);
      if (family.size() > suf.size() &&
          family.compare(family.size() - suf.size(), suf.size(), suf) == 0) {
        const std::string base = family.substr(0, family.size() - suf.size());
        auto t = types->find(base);
        if (t != types->end() && t->second == "histogram") family = base;
      }
    }
    EXPECT_TRUE(types->contains(family)) << "no TYPE for " << family;
    EXPECT_EQ(family, current_family) << "samples not grouped";
    EXPECT_FALSE(closed_families.contains(family));
    samples.push_back(std::move(s));
  }
}

const Sample* Find(const std::vector<Sample>& samples, const std::string& name,
                   const std::map<std::string, std::string>& labels = {}) {
  for (const Sample& s : samples) {
    if (s.name != name) continue;
    bool match = true;
    for (const auto& [k, v] : labels) {
      auto it = s.labels.find(k);
      if (it == s.labels.end() || it->second != v) match = false;
    }
    if (match) return &s;
  }
  return nullptr;
}

CheckpointStats Completed(int64_t id, int64_t duration_ms) {
  CheckpointStats c;
  c.id = id;
  c.state = CheckpointState::kCompleted;
  c.trigger_time_ms = 1'700'000'000'000 + id * 10'000;
  c.end_time_ms = c.trigger_time_ms + duration_ms;
  c.sync_max_us = 2500;
  c.async_max_us = 400'000;
  c.bytes_uploaded = 1024;
  c.bytes_referenced = 4096;
  c.files = 3;
  c.state_size = 5120;
  return c;
}

JobInfo Job(std::string name) {
  JobInfo job;
  job.id = JobId::FromHex(kJobHex).value_or(JobId());
  job.name = std::move(name);
  job.status = JobStatus::kRunning;
  VertexInfo src;
  src.name = "Source: \"lines\"\\raw";
  src.operators = {
      {"Source: lines", "lines", "11111111111111111111111111111111"}};
  src.records_out = 70;
  VertexInfo sink;
  sink.name = "Sink: out\nnext";
  sink.operators = {{"Sink: out", "", "22222222222222222222222222222222"}};
  sink.records_in = 69;
  sink.records_skipped = 1;
  sink.state_read_mmap = 2;
  sink.state_read_pread = 1;
  job.state_backend = "rocksdb";
  job.vertices = {src, sink};
  return job;
}

TEST(MetricsTest, EscapesLabelValues) {
  EXPECT_EQ(EscapeLabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  EXPECT_EQ(EscapeLabelValue("plain"), "plain");
}

TEST(MetricsTest, FormatsValues) {
  EXPECT_EQ(FormatSampleValue(0), "0");
  EXPECT_EQ(FormatSampleValue(12345678901), "12345678901");
  EXPECT_EQ(FormatSampleValue(0.25), "0.25");
  EXPECT_EQ(FormatSampleValue(1.0 / 0.0), "+Inf");
  EXPECT_EQ(std::strtod(FormatSampleValue(0.1 + 0.2).c_str(), nullptr),
            0.1 + 0.2);
}

TEST(MetricsTest, EveryLineParsesBackWithTheFigures) {
  CheckpointsInfo info;
  info.enabled = true;
  info.completed = 2;
  info.failed = 1;
  info.in_progress = 1;
  CheckpointStats running;
  running.id = 4;
  info.history = {Completed(1, 40), Completed(3, 1500), running};
  CheckpointMetrics metrics;
  const JobInfo job = Job("sums \"daily\"");
  EXPECT_EQ(metrics.Observe(job.id, info), 2);

  JobMetricsInput in;
  in.info = job;
  in.checkpoints = info;
  in.durations = metrics.Histogram(job.id);
  const std::string text = FormatMetrics({in});
  std::map<std::string, std::string> types;
  std::vector<Sample> samples;
  ParseBack(text, &types, &samples);
  ASSERT_FALSE(HasFailure()) << text;

  EXPECT_EQ(types["weir_checkpoints_completed_total"], "counter");
  EXPECT_EQ(types["weir_checkpoint_duration_seconds"], "histogram");
  EXPECT_EQ(types["weir_records_in_total"], "counter");
  const std::map<std::string, std::string> job_label{{"job_id", kJobHex}};
  auto value = [&](const std::string& name,
                   std::map<std::string, std::string> labels) {
    labels["job_id"] = kJobHex;
    const Sample* s = Find(samples, name, labels);
    EXPECT_NE(s, nullptr) << name << " missing in\n" << text;
    return s ? s->value : -1;
  };
  EXPECT_EQ(value("weir_job_info",
                  {{"job_name", "sums \"daily\""}, {"state", "RUNNING"}}),
            1);
  EXPECT_EQ(value("weir_checkpoints_completed_total", {}), 2);
  EXPECT_EQ(value("weir_checkpoints_failed_total", {}), 1);
  EXPECT_EQ(value("weir_checkpoints_in_progress", {}), 1);
  EXPECT_EQ(value("weir_last_checkpoint_id", {}), 3);
  EXPECT_DOUBLE_EQ(value("weir_last_checkpoint_duration_seconds", {}), 1.5);
  EXPECT_DOUBLE_EQ(value("weir_last_checkpoint_sync_duration_seconds", {}),
                   0.0025);
  EXPECT_DOUBLE_EQ(value("weir_last_checkpoint_async_duration_seconds", {}),
                   0.4);
  EXPECT_EQ(value("weir_last_checkpoint_uploaded_bytes", {}), 1024);
  EXPECT_EQ(value("weir_last_checkpoint_referenced_bytes", {}), 4096);
  EXPECT_EQ(value("weir_last_checkpoint_files", {}), 3);
  EXPECT_EQ(value("weir_last_checkpoint_state_size_bytes", {}), 5120);
  EXPECT_EQ(value("weir_checkpoint_duration_seconds_bucket", {{"le", "0.01"}}),
            0);
  EXPECT_EQ(value("weir_checkpoint_duration_seconds_bucket", {{"le", "0.05"}}),
            1);
  EXPECT_EQ(value("weir_checkpoint_duration_seconds_bucket", {{"le", "1"}}), 1);
  EXPECT_EQ(value("weir_checkpoint_duration_seconds_bucket", {{"le", "2.5"}}),
            2);
  EXPECT_EQ(value("weir_checkpoint_duration_seconds_bucket", {{"le", "+Inf"}}),
            2);
  EXPECT_EQ(value("weir_checkpoint_duration_seconds_count", {}), 2);
  EXPECT_DOUBLE_EQ(value("weir_checkpoint_duration_seconds_sum", {}), 1.54);
  EXPECT_EQ(value("weir_records_out_total",
                  {{"vertex", "Source: \"lines\"\\raw"},
                   {"vertex_id", "11111111111111111111111111111111"}}),
            70);
  EXPECT_EQ(value("weir_records_in_total", {{"vertex", "Sink: out\nnext"}}),
            69);
  EXPECT_EQ(
      value("weir_records_skipped_total", {{"vertex", "Sink: out\nnext"}}), 1);
  EXPECT_EQ(value("weir_state_read_mode_subtasks",
                  {{"vertex", "Sink: out\nnext"}, {"mode", "mmap"}}),
            2);
  EXPECT_EQ(value("weir_state_read_mode_subtasks",
                  {{"vertex", "Sink: out\nnext"}, {"mode", "pread"}}),
            1);
  EXPECT_EQ(value("weir_state_read_mode_subtasks",
                  {{"vertex_id", "11111111111111111111111111111111"},
                   {"mode", "pread"}}),
            0);
  EXPECT_THAT(text, HasSubstr("vertex=\"Sink: out\\nnext\""));

  // Buckets are cumulative and ascending.
  double previous = 0;
  for (const Sample& s : samples) {
    if (s.name != "weir_checkpoint_duration_seconds_bucket") continue;
    EXPECT_GE(s.value, previous);
    previous = s.value;
  }
}

TEST(MetricsTest, JobWithoutCheckpointsHasOnlyRecords) {
  JobMetricsInput in;
  in.info = Job("plain");
  const std::string text = FormatMetrics({in});
  std::map<std::string, std::string> types;
  std::vector<Sample> samples;
  ParseBack(text, &types, &samples);
  ASSERT_FALSE(HasFailure()) << text;
  EXPECT_EQ(Find(samples, "weir_checkpoints_completed_total"), nullptr);
  EXPECT_EQ(Find(samples, "weir_checkpoint_duration_seconds_count"), nullptr);
  EXPECT_NE(Find(samples, "weir_records_in_total"), nullptr);
}

// The connector gauges appear for the vertices that report them only.
TEST(MetricsTest, ConnectorGaugesOfTheVerticesThatReportThem) {
  JobMetricsInput in;
  in.info = Job("nats");
  const std::string plain = FormatMetrics({in});
  EXPECT_THAT(plain, testing::Not(HasSubstr("weir_source_pending_records")));
  EXPECT_THAT(plain, testing::Not(HasSubstr("weir_sink_send_time_seconds")));
  in.info.vertices[0].pending_records = 42;
  in.info.vertices[1].send_time_us = 2500;
  const std::string text = FormatMetrics({in});
  std::map<std::string, std::string> types;
  std::vector<Sample> samples;
  ParseBack(text, &types, &samples);
  ASSERT_FALSE(HasFailure()) << text;
  EXPECT_EQ(types["weir_source_pending_records"], "gauge");
  EXPECT_EQ(types["weir_sink_send_time_seconds"], "gauge");
  const Sample* pending =
      Find(samples, "weir_source_pending_records",
           {{"vertex_id", "11111111111111111111111111111111"}});
  ASSERT_NE(pending, nullptr) << text;
  EXPECT_EQ(pending->value, 42);
  const Sample* send =
      Find(samples, "weir_sink_send_time_seconds",
           {{"vertex_id", "22222222222222222222222222222222"}});
  ASSERT_NE(send, nullptr) << text;
  EXPECT_DOUBLE_EQ(send->value, 0.0025);
  // One sample each: the other vertex reports none.
  int n = 0;
  for (const Sample& s : samples) {
    n += s.name == "weir_source_pending_records" ||
         s.name == "weir_sink_send_time_seconds";
  }
  EXPECT_EQ(n, 2);
}

TEST(MetricsTest, HistogramCountsEachCheckpointOnceByItsId) {
  const JobId job = JobId::FromHex(kJobHex).value_or(JobId());
  CheckpointMetrics metrics;
  CheckpointsInfo info;
  info.enabled = true;
  CheckpointStats running;
  running.id = 2;
  info.history = {Completed(1, 100), running};
  EXPECT_EQ(metrics.Observe(job, info), 1);
  // The same history again: nothing new.
  EXPECT_EQ(metrics.Observe(job, info), 0);
  // 2 completed, then a window of ten that no longer holds 1 and 2.
  info.history = {Completed(1, 100), Completed(2, 200)};
  EXPECT_EQ(metrics.Observe(job, info), 1);
  info.history.clear();
  for (int64_t id = 3; id <= 12; ++id) {
    info.history.push_back(Completed(id, 300));
  }
  EXPECT_EQ(metrics.Observe(job, info), 10);
  info.history.erase(info.history.begin());
  info.history.push_back(Completed(13, 300));
  EXPECT_EQ(metrics.Observe(job, info), 1);
  EXPECT_EQ(metrics.Observe(job, info), 0);
  // A failed checkpoint is not a duration.
  CheckpointStats failed;
  failed.id = 14;
  failed.state = CheckpointState::kFailed;
  info.history.push_back(failed);
  EXPECT_EQ(metrics.Observe(job, info), 0);

  const DurationHistogram h = metrics.Histogram(job);
  EXPECT_EQ(h.count, 13u);
  EXPECT_NEAR(h.sum, 0.1 + 0.2 + 11 * 0.3, 1e-9);
  metrics.Retain({});
  EXPECT_EQ(metrics.Histogram(job).count, 0u);
}

}  // namespace
}  // namespace weir::tools
