// SPDX-License-Identifier: Apache-2.0
//
// GET /metrics: the jobs of a `weir run` in Prometheus' text exposition
// format (version 0.0.4, Content-Type `text/plain; version=0.0.4`):
// checkpoint counts, the figures of the latest completed checkpoint, a
// histogram of checkpoint durations, and records in and out per vertex.
// docs/rest-api.md lists the metrics.
//
// The engine keeps only its last checkpoints (CheckpointsInfo::history), so
// the histogram lives here: CheckpointMetrics observes each job's history
// (the REST server does so every 200 ms and before each scrape) and counts
// every completed checkpoint once, by id. A checkpoint is missed only if
// more than the history's length complete between two observations.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <weir/checkpoint.h>
#include <weir/job_info.h>

namespace weir::tools {

inline constexpr char kPrometheusContentType[] = "text/plain; version=0.0.4";

// A label value escaped for the text format: \ " and newline become \\ \"
// and \n.
std::string EscapeLabelValue(std::string_view value);
// A sample value: integers without a fraction, others in the shortest form
// that reads back exactly; +Inf, -Inf, NaN.
std::string FormatSampleValue(double value);

// Writes metric families. Each family is started once with Family() and its
// samples follow; the writer does not check that names are valid.
class PrometheusWriter {
 public:
  using Labels = std::vector<std::pair<std::string, std::string>>;
  // `type`: "counter", "gauge", "histogram".
  void Family(std::string_view name, std::string_view type,
              std::string_view help);
  void Sample(std::string_view name, const Labels& labels, double value);
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

// Cumulative histogram of checkpoint durations (trigger to completion), in
// seconds.
struct DurationHistogram {
  // Upper bounds of the buckets, in seconds; +Inf is implied.
  static const std::vector<double>& Bounds();
  std::vector<uint64_t> counts = std::vector<uint64_t>(Bounds().size(), 0);
  uint64_t count = 0;  // also the +Inf bucket
  double sum = 0;
  void Add(double seconds);
};

// Per job: the histogram of completed checkpoints' durations, counting each
// checkpoint id once. Thread-safe.
class CheckpointMetrics {
 public:
  // Adds the completed checkpoints of `info.history` not seen before.
  // Returns how many were added.
  int Observe(const JobId& job, const CheckpointsInfo& info);
  // The job's histogram; empty if none was observed.
  DurationHistogram Histogram(const JobId& job) const;
  // Forgets jobs not in `keep` (jobs that are gone).
  void Retain(const std::vector<JobId>& keep);

 private:
  struct PerJob {
    DurationHistogram histogram;
    std::set<int64_t> seen;  // ids observed that may still be in history
  };
  mutable std::mutex mu_;
  std::map<JobId, PerJob> jobs_;
};

// One job as /metrics shows it.
struct JobMetricsInput {
  JobInfo info;
  // Unset if the job takes no checkpoints.
  std::optional<CheckpointsInfo> checkpoints;
  DurationHistogram durations;
};

// The /metrics body for the jobs.
std::string FormatMetrics(const std::vector<JobMetricsInput>& jobs);

}  // namespace weir::tools
