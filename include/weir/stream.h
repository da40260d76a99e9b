// SPDX-License-Identifier: Apache-2.0
//
// The job builder, in the spirit of Flink's DataStream API:
//
//   weir::JobBuilder b("word-count");
//   auto words = b.AddSource<std::string>(std::make_unique<MySource>(),
//                                         "words").Uid("words");
//   words.KeyBy([](const std::string& w) { return w; })
//       .Process<Count>(std::make_unique<CountFn>()).Uid("counts")
//       .SinkTo(std::make_unique<weir::PrintSink<Count>>()).Name("print");
//   auto job = b.Build(options);        // Result<std::unique_ptr<Job>>
//   (*job)->Start(); (*job)->Wait();
//
// Every operator takes Uid(), Name(), SetUidHash() and SetParallelism();
// they apply to the operator the call returned. Operator ids come from the
// uid (XXH3-128), an explicit uid hash, or else from the operator's place in
// the graph (docs/engine.md). Records cross a KeyBy by key group; forward
// edges between operators of equal parallelism are chained into one task.
//
// Key types need a Serializer<K> (serializer.h). Callables given to Map may
// return Result<Out> to fail the job with a Status.
#pragma once

#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <weir/detail/operators.h>
#include <weir/detail/runtime.h>
#include <weir/detail/window_function.h>
#include <weir/functions.h>
#include <weir/job.h>
#include <weir/sinks.h>

namespace weir {

namespace detail {
// A function object given to the builder as a unique_ptr serves one subtask
// only: a second call of the factory returns null, and Build() refuses such
// an operator with parallelism > 1. Factories serve any parallelism.
template <class F>
std::function<std::unique_ptr<F>()> OnceFactory(std::unique_ptr<F> fn) {
  auto holder = std::make_shared<std::unique_ptr<F>>(std::move(fn));
  return [holder]() { return std::move(*holder); };
}

struct GraphDef {
  std::string name;
  int parallelism = 1;
  int max_parallelism = kDefaultMaxParallelism;
  std::vector<NodeDef> nodes;
};
}  // namespace detail

template <class T>
class DataStream;
template <class K, class T>
class KeyedStream;
template <class K, class T>
class WindowedStream;
template <class T>
class PushSource;  // push_source.h

class JobBuilder {
 public:
  explicit JobBuilder(std::string name)
      : graph_(std::make_shared<detail::GraphDef>()) {
    graph_->name = std::move(name);
  }

  // Default parallelism of operators that set none. Default: 1.
  JobBuilder& SetParallelism(int parallelism) {
    graph_->parallelism = parallelism;
    return *this;
  }
  // Number of key groups, fixed for the life of the state. Default: 128.
  JobBuilder& SetMaxParallelism(int max_parallelism) {
    graph_->max_parallelism = max_parallelism;
    return *this;
  }

  // A source. `non_parallel`: the source always runs as one subtask (a
  // single file, say), whatever the job's parallelism.
  //
  // One instance serves one subtask (parallelism 1); a factory is called
  // per subtask.
  template <class T>
  DataStream<T> AddSource(std::unique_ptr<SourceFunction<T>> fn,
                          std::string name,
                          WatermarkStrategy<T> watermarks = {},
                          bool non_parallel = false);
  template <class T>
  DataStream<T> AddSource(
      std::function<std::unique_ptr<SourceFunction<T>>()> factory,
      std::string name, WatermarkStrategy<T> watermarks = {},
      bool non_parallel = false);

  // A source the host feeds (push_source.h, which defines this): runs as
  // one subtask.
  template <class T>
  DataStream<T> AddSource(std::shared_ptr<PushSource<T>> source,
                          std::string name,
                          WatermarkStrategy<T> watermarks = {});

  // Checks the graph (unique uids, parallelism within max parallelism),
  // assigns operator ids, chains operators and creates the job.
  Result<std::unique_ptr<Job>> Build(JobOptions options = {}) const;

  const detail::GraphDef& graph() const { return *graph_; }

 private:
  std::shared_ptr<detail::GraphDef> graph_;
};

// The operator a builder call created: set its uid, name, parallelism.
class OperatorHandle {
 public:
  OperatorHandle(std::shared_ptr<detail::GraphDef> graph, int node)
      : graph_(std::move(graph)), node_(node) {}

 protected:
  detail::NodeDef& node() const { return graph_->nodes[node_]; }

  std::shared_ptr<detail::GraphDef> graph_;
  int node_;
};

class SinkHandle : public OperatorHandle {
 public:
  using OperatorHandle::OperatorHandle;
  SinkHandle& Uid(std::string uid) {
    node().uid = std::move(uid);
    return *this;
  }
  SinkHandle& Name(std::string name) {
    node().name = std::move(name);
    return *this;
  }
  SinkHandle& SetUidHash(std::string hash) {
    node().uid_hash = std::move(hash);
    return *this;
  }
  SinkHandle& SetParallelism(int parallelism) {
    node().parallelism = parallelism;
    return *this;
  }
};

template <class T>
class DataStream {
 public:
  DataStream(std::shared_ptr<detail::GraphDef> graph, std::vector<int> nodes)
      : graph_(std::move(graph)), nodes_(std::move(nodes)) {}

  // ---- Settings of the operator that produced this stream. On a union
  // they apply to its last input.
  DataStream& Uid(std::string uid) {
    last().uid = std::move(uid);
    return *this;
  }
  DataStream& Name(std::string name) {
    last().name = std::move(name);
    return *this;
  }
  DataStream& SetUidHash(std::string hash) {
    last().uid_hash = std::move(hash);
    return *this;
  }
  DataStream& SetParallelism(int parallelism) {
    last().parallelism = parallelism;
    return *this;
  }
  // Starts a new chain here.
  DataStream& DisableChaining() {
    last().chain_to_input = false;
    return *this;
  }

  // ---- Transformations.

  // F: Out(const T&) or Result<Out>(const T&).
  template <class F, class Out = detail::MapResultT<F, T>>
  DataStream<Out> Map(F f) {
    return Then<Out>("Map", [f] {
      return std::make_unique<detail::MapOperator<T, Out, F>>(f);
    });
  }
  // F: void(const T&, Collector<Out>&) or Status(const T&, Collector<Out>&).
  template <class Out, class F>
  DataStream<Out> FlatMap(F f) {
    return Then<Out>("FlatMap", [f] {
      return std::make_unique<detail::FlatMapOperator<T, Out, F>>(f);
    });
  }
  // F: bool(const T&); keeps the records for which it is true.
  template <class F>
  DataStream<T> Filter(F f) {
    return Then<T>("Filter", [f] {
      return std::make_unique<detail::FilterOperator<T, F>>(f);
    });
  }
  // F: K(const T&). Records with equal keys go to the same subtask.
  template <class F, class K = std::decay_t<std::invoke_result_t<F, const T&>>>
  KeyedStream<K, T> KeyBy(F f) {
    return KeyedStream<K, T>(*this, std::function<K(const T&)>(std::move(f)));
  }
  // The records of this stream and of `others` (same type) as one stream.
  DataStream<T> Union(const std::vector<DataStream<T>>& others) const {
    DataStream<T> out = *this;
    for (const DataStream<T>& o : others) {
      out.nodes_.insert(out.nodes_.end(), o.nodes_.begin(), o.nodes_.end());
    }
    return out;
  }
  // The next operator reads this stream round robin.
  DataStream<T> Rebalance() const {
    DataStream<T> out = *this;
    out.partitioning_ = detail::Partitioning::kRebalance;
    return out;
  }

  // A sink: one instance (parallelism 1), or a factory called per subtask.
  SinkHandle SinkTo(std::unique_ptr<SinkFunction<T>> sink) {
    SinkHandle h = SinkTo(detail::OnceFactory(std::move(sink)));
    graph_->nodes.back().single_instance = true;
    return h;
  }
  SinkHandle SinkTo(std::function<std::unique_ptr<SinkFunction<T>>()> factory) {
    const int node = AddNode(
        "Sink",
        [factory]() -> std::unique_ptr<StreamOperator> {
          std::unique_ptr<SinkFunction<T>> fn = factory();
          if (fn == nullptr) return nullptr;
          return std::make_unique<detail::SinkOperator<T>>(std::move(fn));
        },
        partitioning_, nullptr, /*keyed=*/false, /*sink=*/true, nullptr);
    return SinkHandle(graph_, node);
  }

  // A CallbackSink (sinks.h): F is void(const T&) or Status(const T&),
  // called on the sink task's thread, per subtask.
  template <class F>
  requires std::is_invocable_v<F&, const T&> SinkHandle SinkTo(F fn) {
    return SinkTo(CallbackSink<T>::Factory(std::move(fn)));
  }

  // ---- For new operator kinds (windows): appends a node that reads this
  // stream. `make` is called once per subtask.
  template <class Out>
  DataStream<Out> Then(std::string name,
                       std::function<std::unique_ptr<StreamOperator>()> make) {
    const int node = AddNode(std::move(name), std::move(make), partitioning_,
                             nullptr, false, false, detail::TypeOpsFor<Out>());
    return DataStream<Out>(graph_, {node});
  }
  int AddNode(std::string name,
              std::function<std::unique_ptr<StreamOperator>()> make,
              detail::Partitioning partitioning,
              std::function<std::string(const T&)> key_bytes, bool keyed,
              bool sink, std::shared_ptr<const detail::StreamTypeOps> out) {
    detail::NodeDef n;
    n.index = static_cast<int>(graph_->nodes.size());
    n.name = std::move(name);
    n.is_sink = sink;
    n.keyed = keyed;
    n.make_operator = std::move(make);
    n.output_type = std::move(out);
    n.input_type = detail::TypeOpsFor<T>();
    for (int src : nodes_) {
      detail::EdgeDef e;
      e.source = src;
      e.partitioning = partitioning;
      e.make_network_output = detail::MakeNetworkOutputFactory<T>(key_bytes);
      n.inputs.push_back(std::move(e));
    }
    graph_->nodes.push_back(std::move(n));
    return graph_->nodes.back().index;
  }

  const std::shared_ptr<detail::GraphDef>& graph() const { return graph_; }

 private:
  detail::NodeDef& last() { return graph_->nodes[nodes_.back()]; }

  std::shared_ptr<detail::GraphDef> graph_;
  std::vector<int> nodes_;
  detail::Partitioning partitioning_ = detail::Partitioning::kForward;
};

template <class K, class T>
class KeyedStream {
 public:
  KeyedStream(DataStream<T> input, std::function<K(const T&)> key)
      : input_(std::move(input)), key_(std::move(key)) {}

  // Runs `fn` per record with the record's key as the current key.
  // One instance (parallelism 1), or a factory called per subtask.
  template <class Out>
  DataStream<Out> Process(std::unique_ptr<KeyedProcessFunction<K, T, Out>> fn,
                          std::string name = "KeyedProcess") {
    DataStream<Out> out =
        Process<Out>(detail::OnceFactory(std::move(fn)), std::move(name));
    out.graph()->nodes.back().single_instance = true;
    return out;
  }
  template <class Out>
  DataStream<Out> Process(
      std::function<std::unique_ptr<KeyedProcessFunction<K, T, Out>>()> factory,
      std::string name = "KeyedProcess") {
    auto key = key_;
    return Keyed<Out>(
        std::move(name), [key, factory]() -> std::unique_ptr<StreamOperator> {
          auto fn = factory();
          if (fn == nullptr) return nullptr;
          return std::make_unique<detail::KeyedProcessOperator<K, T, Out>>(
              key, std::move(fn));
        });
  }
  // A running reduce: emits reduce(previous, record) per record.
  DataStream<T> Reduce(std::function<T(const T&, const T&)> reduce,
                       std::string name = "Reduce") {
    auto key = key_;
    return Keyed<T>(
        std::move(name), [key, reduce]() -> std::unique_ptr<StreamOperator> {
          return std::make_unique<detail::KeyedProcessOperator<K, T, T>>(
              key, std::make_unique<detail::KeyedReduceFunction<K, T>>(reduce));
        });
  }

  // Windows per key (window.h); finish with Aggregate() or Reduce().
  WindowedStream<K, T> Window(WindowAssigner assigner) const {
    return WindowedStream<K, T>(*this, assigner);
  }

  // For keyed operator kinds: a keyed node reading this stream.
  template <class Out>
  DataStream<Out> Keyed(std::string name,
                        std::function<std::unique_ptr<StreamOperator>()> make) {
    auto key = key_;
    const int node = input_.AddNode(
        std::move(name), std::move(make), detail::Partitioning::kKeyGroups,
        [key](const T& v) { return detail::SerializeKey<K>(key(v)); },
        /*keyed=*/true, false, detail::TypeOpsFor<Out>());
    return DataStream<Out>(input_.graph(), {node});
  }

  const std::function<K(const T&)>& key_selector() const { return key_; }

 private:
  DataStream<T> input_;
  std::function<K(const T&)> key_;
};

template <class K, class T>
class WindowedStream {
 public:
  WindowedStream(KeyedStream<K, T> input, WindowAssigner assigner)
      : input_(std::move(input)), assigner_(assigner) {}

  // Event-time windows keep their state this long after they fired, and
  // late records within it fire them again. Default: 0.
  WindowedStream& AllowedLateness(int64_t ms) {
    lateness_ = ms;
    return *this;
  }

  // Flink's aggregate(): one accumulator per key and window. Session
  // windows need `function.merge`.
  template <class Acc, class Out, class AccS = Serializer<Acc>>
  DataStream<WindowResult<K, Out>> Aggregate(
      AggregateFunction<T, Acc, Out> function, std::string name = "Window") {
    detail::WindowCombiner<T, Acc, Out> c;
    c.init = [f = function](const T& v) {
      Acc acc = f.create_accumulator();
      f.add(v, &acc);
      return acc;
    };
    c.add = [f = function](Acc* acc, const T& v) { f.add(v, acc); };
    c.merge = function.merge;
    c.result = function.get_result;
    return Make<Acc, Out, AccS>(std::move(c), std::move(name));
  }

  // Flink's reduce(): the window's records folded pairwise.
  DataStream<WindowResult<K, T>> Reduce(
      std::function<T(const T&, const T&)> reduce,
      std::string name = "Window") {
    detail::WindowCombiner<T, T, T> c;
    c.init = [](const T& v) { return v; };
    c.add = [reduce](T* acc, const T& v) { *acc = reduce(*acc, v); };
    c.merge = reduce;
    c.result = [](const T& acc) { return acc; };
    return Make<T, T, Serializer<T>>(std::move(c), std::move(name));
  }

 private:
  template <class Acc, class Out, class AccS>
  DataStream<WindowResult<K, Out>> Make(detail::WindowCombiner<T, Acc, Out> c,
                                        std::string name) {
    auto assigner = assigner_;
    auto lateness = lateness_;
    auto key = input_.key_selector();
    return input_.template Keyed<WindowResult<K, Out>>(
        name, [=]() -> std::unique_ptr<StreamOperator> {
          return std::make_unique<
              detail::KeyedProcessOperator<K, T, WindowResult<K, Out>>>(
              key,
              std::make_unique<detail::WindowFunction<K, T, Acc, Out, AccS>>(
                  assigner, lateness, c, name));
        });
  }

  KeyedStream<K, T> input_;
  WindowAssigner assigner_;
  int64_t lateness_ = 0;
};

template <class T>
DataStream<T> JobBuilder::AddSource(std::unique_ptr<SourceFunction<T>> fn,
                                    std::string name,
                                    WatermarkStrategy<T> watermarks,
                                    bool non_parallel) {
  DataStream<T> out =
      AddSource<T>(detail::OnceFactory(std::move(fn)), std::move(name),
                   std::move(watermarks), non_parallel);
  graph_->nodes.back().single_instance = true;
  return out;
}

template <class T>
DataStream<T> JobBuilder::AddSource(
    std::function<std::unique_ptr<SourceFunction<T>>()> factory,
    std::string name, WatermarkStrategy<T> watermarks, bool non_parallel) {
  detail::NodeDef n;
  n.index = static_cast<int>(graph_->nodes.size());
  n.name = std::move(name);
  n.is_source = true;
  n.non_parallel = non_parallel;
  n.output_type = detail::TypeOpsFor<T>();
  n.make_operator = [factory, watermarks]() -> std::unique_ptr<StreamOperator> {
    std::unique_ptr<SourceFunction<T>> fn = factory();
    if (fn == nullptr) return nullptr;
    return std::make_unique<detail::SourceOperator<T>>(std::move(fn),
                                                       watermarks);
  };
  graph_->nodes.push_back(std::move(n));
  return DataStream<T>(graph_, {graph_->nodes.back().index});
}

}  // namespace weir
