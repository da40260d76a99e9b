// SPDX-License-Identifier: Apache-2.0
//
// Time windows, as in Flink: tumbling, sliding and session windows over
// event time or processing time. A window is [start, end); it fires when
// event time (the watermark) or processing time reaches end - 1, and with
// allowed lateness its state stays until end - 1 + lateness, so that late
// records update it (each one fires the window again). Records later than
// that are dropped and counted (late_records_dropped).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <weir/serializer.h>

namespace weir {

struct TimeWindow {
  int64_t start = 0;
  int64_t end = 0;  // exclusive

  int64_t max_timestamp() const { return end - 1; }
  // Flink's rule: windows that overlap or touch are merged.
  bool Intersects(const TimeWindow& o) const {
    return start <= o.end && end >= o.start;
  }
  TimeWindow Cover(const TimeWindow& o) const {
    return {start < o.start ? start : o.start, end > o.end ? end : o.end};
  }
  auto operator<=>(const TimeWindow&) const = default;
};

template <>
struct Serializer<TimeWindow> {
  static constexpr uint32_t kVersion = 1;
  void Serialize(const TimeWindow& w, std::string* out) const {
    Serializer<int64_t>().Serialize(w.start, out);
    Serializer<int64_t>().Serialize(w.end, out);
  }
  Status Deserialize(uint32_t, std::string_view in, TimeWindow* w) const {
    if (in.size() != 16) {
      return internal::SerializerSizeMismatch("TimeWindow", 16, in.size());
    }
    Status s = Serializer<int64_t>().Deserialize(1, in.substr(0, 8), &w->start);
    if (!s.ok()) return s;
    return Serializer<int64_t>().Deserialize(1, in.substr(8), &w->end);
  }
};

struct WindowAssigner {
  enum class Kind : uint8_t { kTumbling, kSliding, kSession };

  Kind kind = Kind::kTumbling;
  int64_t size_ms = 0;   // tumbling, sliding
  int64_t slide_ms = 0;  // sliding
  int64_t gap_ms = 0;    // session
  bool event_time = true;

  static WindowAssigner TumblingEventTime(int64_t size) {
    return {Kind::kTumbling, size, size, 0, true};
  }
  static WindowAssigner SlidingEventTime(int64_t size, int64_t slide) {
    return {Kind::kSliding, size, slide, 0, true};
  }
  static WindowAssigner EventTimeSession(int64_t gap) {
    return {Kind::kSession, 0, 0, gap, true};
  }
  static WindowAssigner TumblingProcessingTime(int64_t size) {
    return {Kind::kTumbling, size, size, 0, false};
  }
  static WindowAssigner SlidingProcessingTime(int64_t size, int64_t slide) {
    return {Kind::kSliding, size, slide, 0, false};
  }
  static WindowAssigner ProcessingTimeSession(int64_t gap) {
    return {Kind::kSession, 0, 0, gap, false};
  }

  bool merging() const { return kind == Kind::kSession; }

  // The windows a record at `time` belongs to (Flink's alignment: window
  // starts are multiples of the slide since the epoch).
  std::vector<TimeWindow> Assign(int64_t time) const {
    std::vector<TimeWindow> out;
    if (kind == Kind::kSession) {
      out.push_back({time, time + gap_ms});
      return out;
    }
    const int64_t slide = kind == Kind::kTumbling ? size_ms : slide_ms;
    int64_t last_start = time - ((time % slide) + slide) % slide;
    for (int64_t start = last_start; start > time - size_ms; start -= slide) {
      out.push_back({start, start + size_ms});
    }
    return out;
  }
};

// What a window emits: its key, the window, and the aggregate.
template <class K, class R>
struct WindowResult {
  K key{};
  TimeWindow window;
  R value{};
  bool operator==(const WindowResult&) const = default;
};

}  // namespace weir
