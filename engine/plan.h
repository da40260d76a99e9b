// SPDX-License-Identifier: Apache-2.0
//
// From the builder's graph to what runs: each operator's parallelism and
// operator id, and the chains (vertices) that become tasks.
#pragma once

#include <string>
#include <vector>

#include <weir/operator_id.h>
#include <weir/result.h>
#include <weir/stream.h>

namespace weir::engine {

struct Vertex {
  std::vector<int> nodes;  // chain order (topological), head first
  int parallelism = 1;
  std::string name;  // the operators' names joined by " -> "
};

struct Plan {
  std::vector<OperatorId> ids;   // per node
  std::vector<int> parallelism;  // per node
  std::vector<int> vertex_of;    // per node
  std::vector<bool> chained;     // per node: runs in its input's task
  // Per node, per input edge: the partitioning actually used (a forward
  // edge between different parallelisms becomes a rebalance, as in Flink).
  std::vector<std::vector<detail::Partitioning>> partitioning;
  std::vector<Vertex> vertices;  // topological order, sources first
};

// Checks the graph and plans it: parallelism within [1, max parallelism],
// unique uids and ids, sources without inputs, operators with one.
Result<Plan> PlanGraph(const detail::GraphDef& graph);

// The operator ids alone (tests, inspection tools).
Result<std::vector<OperatorId>> AssignOperatorIds(
    const detail::GraphDef& graph);

}  // namespace weir::engine
