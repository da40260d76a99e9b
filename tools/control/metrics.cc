// SPDX-License-Identifier: Apache-2.0
#include "tools/control/metrics.h"

#include <charconv>
#include <cmath>
#include <functional>
#include <limits>

namespace weir::tools {

namespace {

// HELP text: \ and newline escaped (quotes stay).
std::string EscapeHelp(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    if (ch == '\\') {
      out += "\\\\";
    } else if (ch == '\n') {
      out += "\\n";
    } else {
      out += ch;
    }
  }
  return out;
}

const CheckpointStats* LatestCompleted(const CheckpointsInfo& info) {
  for (auto it = info.history.rbegin(); it != info.history.rend(); ++it) {
    if (it->state == CheckpointState::kCompleted) return &*it;
  }
  return nullptr;
}

double DurationSeconds(const CheckpointStats& c) {
  if (c.end_time_ms <= c.trigger_time_ms) return 0;
  return static_cast<double>(c.end_time_ms - c.trigger_time_ms) / 1000.0;
}

}  // namespace

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char ch : value) {
    switch (ch) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += ch;
    }
  }
  return out;
}

std::string FormatSampleValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    return std::to_string(static_cast<int64_t>(value));
  }
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  if (ec != std::errc()) return "NaN";
  return std::string(buf, end);
}

void PrometheusWriter::Family(std::string_view name, std::string_view type,
                              std::string_view help) {
  text_ += "# HELP ";
  text_ += name;
  text_ += ' ';
  text_ += EscapeHelp(help);
  text_ += "\n# TYPE ";
  text_ += name;
  text_ += ' ';
  text_ += type;
  text_ += '\n';
}

void PrometheusWriter::Sample(std::string_view name, const Labels& labels,
                              double value) {
  text_ += name;
  if (!labels.empty()) {
    text_ += '{';
    for (size_t i = 0; i < labels.size(); ++i) {
      if (i > 0) text_ += ',';
      text_ += labels[i].first;
      text_ += "=\"";
      text_ += EscapeLabelValue(labels[i].second);
      text_ += '"';
    }
    text_ += '}';
  }
  text_ += ' ';
  text_ += FormatSampleValue(value);
  text_ += '\n';
}

const std::vector<double>& DurationHistogram::Bounds() {
  static const std::vector<double> bounds = {
      0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600};
  return bounds;
}

void DurationHistogram::Add(double seconds) {
  const std::vector<double>& bounds = Bounds();
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (seconds <= bounds[i]) ++counts[i];
  }
  ++count;
  sum += seconds;
}

int CheckpointMetrics::Observe(const JobId& job, const CheckpointsInfo& info) {
  std::lock_guard<std::mutex> lock(mu_);
  PerJob& per_job = jobs_[job];
  int added = 0;
  int64_t min_id = std::numeric_limits<int64_t>::max();
  for (const CheckpointStats& c : info.history) {
    min_id = std::min(min_id, c.id);
    if (c.state != CheckpointState::kCompleted) continue;
    if (!per_job.seen.insert(c.id).second) continue;
    per_job.histogram.Add(DurationSeconds(c));
    ++added;
  }
  // A checkpoint still running is in the history, and ids grow: an id below
  // the history's smallest has ended and been dropped, and never comes back.
  per_job.seen.erase(per_job.seen.begin(), per_job.seen.lower_bound(min_id));
  return added;
}

DurationHistogram CheckpointMetrics::Histogram(const JobId& job) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(job);
  return it == jobs_.end() ? DurationHistogram{} : it->second.histogram;
}

void CheckpointMetrics::Retain(const std::vector<JobId>& keep) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = jobs_.begin(); it != jobs_.end();) {
    if (std::find(keep.begin(), keep.end(), it->first) == keep.end()) {
      it = jobs_.erase(it);
    } else {
      ++it;
    }
  }
}

std::string FormatMetrics(const std::vector<JobMetricsInput>& jobs) {
  using Labels = PrometheusWriter::Labels;
  PrometheusWriter w;
  auto job_labels = [](const JobMetricsInput& j) {
    return Labels{{"job_id", j.info.id.ToHex()}};
  };

  w.Family("weir_job_info", "gauge",
           "The job's name and state (Flink's spelling); always 1.");
  for (const JobMetricsInput& j : jobs) {
    w.Sample("weir_job_info",
             {{"job_id", j.info.id.ToHex()},
              {"job_name", j.info.name},
              {"state", std::string(JobStatusName(j.info.status))}},
             1);
  }

  // Checkpoint figures: only for jobs that take checkpoints.
  std::vector<const JobMetricsInput*> chk;
  for (const JobMetricsInput& j : jobs) {
    if (j.checkpoints) chk.push_back(&j);
  }
  auto per_job = [&](const char* name, const char* type, const char* help,
                     const std::function<double(const CheckpointsInfo&)>& f) {
    w.Family(name, type, help);
    for (const JobMetricsInput* j : chk) {
      w.Sample(name, job_labels(*j), f(*j->checkpoints));
    }
  };
  per_job("weir_checkpoints_completed_total", "counter",
          "Checkpoints completed since the job started.",
          [](const CheckpointsInfo& c) { return c.completed; });
  per_job("weir_checkpoints_failed_total", "counter",
          "Checkpoints failed or aborted since the job started.",
          [](const CheckpointsInfo& c) { return c.failed; });
  per_job("weir_checkpoints_in_progress", "gauge", "Checkpoints in progress.",
          [](const CheckpointsInfo& c) { return c.in_progress; });
  per_job("weir_job_restarts_total", "counter",
          "Restarts of the job after failures.",
          [](const CheckpointsInfo& c) { return c.restarts; });

  // The latest completed checkpoint, for jobs that have one.
  auto last = [&](const char* name, const char* help,
                  const std::function<double(const CheckpointStats&)>& f) {
    w.Family(name, "gauge", help);
    for (const JobMetricsInput* j : chk) {
      if (const CheckpointStats* c = LatestCompleted(*j->checkpoints)) {
        w.Sample(name, job_labels(*j), f(*c));
      }
    }
  };
  last("weir_last_checkpoint_id", "Id of the latest completed checkpoint.",
       [](const CheckpointStats& c) { return c.id; });
  last("weir_last_checkpoint_trigger_timestamp_seconds",
       "When the latest completed checkpoint was triggered (Unix time).",
       [](const CheckpointStats& c) { return c.trigger_time_ms / 1000.0; });
  last("weir_last_checkpoint_duration_seconds",
       "Trigger to completion of the latest completed checkpoint.",
       DurationSeconds);
  last("weir_last_checkpoint_sync_duration_seconds",
       "Longest synchronous phase over the tasks, latest completed "
       "checkpoint.",
       [](const CheckpointStats& c) { return c.sync_max_us / 1e6; });
  last("weir_last_checkpoint_async_duration_seconds",
       "Longest asynchronous phase over the tasks, latest completed "
       "checkpoint.",
       [](const CheckpointStats& c) { return c.async_max_us / 1e6; });
  last("weir_last_checkpoint_uploaded_bytes",
       "Bytes the latest completed checkpoint uploaded to shared/.",
       [](const CheckpointStats& c) {
         return static_cast<double>(c.bytes_uploaded);
       });
  last("weir_last_checkpoint_referenced_bytes",
       "Bytes the latest completed checkpoint referenced in shared/ "
       "(uploaded before).",
       [](const CheckpointStats& c) {
         return static_cast<double>(c.bytes_referenced);
       });
  last("weir_last_checkpoint_files",
       "Files the latest completed checkpoint consists of.",
       [](const CheckpointStats& c) { return c.files; });
  last("weir_last_checkpoint_state_size_bytes",
       "Bytes of all files of the latest completed checkpoint.",
       [](const CheckpointStats& c) {
         return static_cast<double>(c.state_size);
       });

  w.Family("weir_checkpoint_duration_seconds", "histogram",
           "Trigger to completion of completed checkpoints.");
  for (const JobMetricsInput* j : chk) {
    const DurationHistogram& h = j->durations;
    const std::vector<double>& bounds = DurationHistogram::Bounds();
    for (size_t i = 0; i < bounds.size(); ++i) {
      Labels l = job_labels(*j);
      l.emplace_back("le", FormatSampleValue(bounds[i]));
      w.Sample("weir_checkpoint_duration_seconds_bucket", l,
               static_cast<double>(h.counts[i]));
    }
    Labels inf = job_labels(*j);
    inf.emplace_back("le", "+Inf");
    w.Sample("weir_checkpoint_duration_seconds_bucket", inf,
             static_cast<double>(h.count));
    w.Sample("weir_checkpoint_duration_seconds_sum", job_labels(*j), h.sum);
    w.Sample("weir_checkpoint_duration_seconds_count", job_labels(*j),
             static_cast<double>(h.count));
  }

  // Per vertex (a chain of operators): records in and out.
  auto per_vertex = [&](const char* name, const char* help,
                        const std::function<double(const VertexInfo&)>& f) {
    w.Family(name, "counter", help);
    for (const JobMetricsInput& j : jobs) {
      for (const VertexInfo& v : j.info.vertices) {
        w.Sample(name,
                 {{"job_id", j.info.id.ToHex()},
                  {"vertex_id", v.operators.empty()
                                    ? std::string()
                                    : v.operators.front().operator_id},
                  {"vertex", v.name}},
                 f(v));
      }
    }
  };
  per_vertex("weir_records_in_total",
             "Records the vertex read from its inputs (0 for sources).",
             [](const VertexInfo& v) { return v.records_in; });
  per_vertex("weir_records_out_total",
             "Records the vertex wrote to its outputs (0 for sinks).",
             [](const VertexInfo& v) { return v.records_out; });
  per_vertex("weir_records_late_dropped_total",
             "Records dropped because their windows were cleaned up.",
             [](const VertexInfo& v) { return v.late_records_dropped; });
  per_vertex("weir_records_skipped_total",
             "Malformed input records skipped (on-error: skip).",
             [](const VertexInfo& v) { return v.records_skipped; });

  // Connector gauges, for the vertices that report them.
  auto per_vertex_gauge =
      [&](const char* name, const char* help,
          const std::function<int64_t(const VertexInfo&)>& f, double scale) {
        bool any = false;
        for (const JobMetricsInput& j : jobs) {
          for (const VertexInfo& v : j.info.vertices) any = any || f(v) >= 0;
        }
        if (!any) return;
        w.Family(name, "gauge", help);
        for (const JobMetricsInput& j : jobs) {
          for (const VertexInfo& v : j.info.vertices) {
            if (f(v) < 0) continue;
            w.Sample(name,
                     {{"job_id", j.info.id.ToHex()},
                      {"vertex_id", v.operators.empty()
                                        ? std::string()
                                        : v.operators.front().operator_id},
                      {"vertex", v.name}},
                     static_cast<double>(f(v)) * scale);
          }
        }
      };
  per_vertex_gauge(
      "weir_source_pending_records",
      "Records the vertex's sources have not read yet (a NATS "
      "source: its consumers' lag in messages).",
      [](const VertexInfo& v) { return v.pending_records; }, 1);
  per_vertex_gauge(
      "weir_sink_send_time_seconds",
      "How long the vertex's sinks waited for the external "
      "system to acknowledge their last sends (a NATS sink: "
      "publish to acknowledgement), the longest over subtasks.",
      [](const VertexInfo& v) { return v.send_time_us; }, 1e-6);

  // RocksDB state: subtasks per read mode (what kAuto chose).
  bool rocksdb = false;
  for (const JobMetricsInput& j : jobs) {
    rocksdb = rocksdb || j.info.state_backend == "rocksdb";
  }
  if (rocksdb) {
    w.Family("weir_state_read_mode_subtasks", "gauge",
             "Subtasks whose RocksDB state reads its files with this mode "
             "(mmap or pread).");
    for (const JobMetricsInput& j : jobs) {
      if (j.info.state_backend != "rocksdb") continue;
      for (const VertexInfo& v : j.info.vertices) {
        for (const auto& [mode, n] :
             {std::pair<const char*, int>{"mmap", v.state_read_mmap},
              std::pair<const char*, int>{"pread", v.state_read_pread}}) {
          w.Sample("weir_state_read_mode_subtasks",
                   {{"job_id", j.info.id.ToHex()},
                    {"vertex_id", v.operators.empty()
                                      ? std::string()
                                      : v.operators.front().operator_id},
                    {"vertex", v.name},
                    {"mode", mode}},
                   static_cast<double>(n));
        }
      }
    }
  }
  return w.text();
}

}  // namespace weir::tools
