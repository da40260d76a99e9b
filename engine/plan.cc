// SPDX-License-Identifier: Apache-2.0
#include "engine/plan.h"

#include <deque>
#include <map>

#include "lib/coding.h"
#include "lib/hash.h"

namespace weir::engine {
namespace {

std::string Describe(const detail::NodeDef& n) {
  std::string out = "operator '" + n.name + "'";
  if (!n.uid.empty()) out += " (uid '" + n.uid + "')";
  return out;
}

Status CheckShape(const detail::GraphDef& g) {
  if (g.nodes.empty()) {
    return Status::InvalidArgument("job '" + g.name + "' has no operators");
  }
  if (g.max_parallelism < 1 || g.max_parallelism > kUpperBoundMaxParallelism) {
    return Status::InvalidArgument("max parallelism must be in [1, " +
                                   std::to_string(kUpperBoundMaxParallelism) +
                                   "], got " +
                                   std::to_string(g.max_parallelism));
  }
  if (g.parallelism < 1) {
    return Status::InvalidArgument("job parallelism must be at least 1, got " +
                                   std::to_string(g.parallelism));
  }
  std::map<std::string, const detail::NodeDef*> uids;
  for (const detail::NodeDef& n : g.nodes) {
    if (n.is_source != n.inputs.empty()) {
      return Status::InvalidArgument(
          Describe(n) +
          (n.is_source ? " is a source but has inputs" : " has no input"));
    }
    for (const detail::EdgeDef& e : n.inputs) {
      if (e.source < 0 || e.source >= n.index) {
        return Status::InvalidArgument(Describe(n) +
                                       " reads an operator defined after it");
      }
      if (g.nodes[e.source].is_sink) {
        return Status::InvalidArgument(Describe(n) + " reads from a sink");
      }
    }
    if (!n.uid.empty()) {
      auto [it, inserted] = uids.emplace(n.uid, &n);
      if (!inserted) {
        return Status::InvalidArgument("two operators have uid '" + n.uid +
                                       "': '" + it->second->name + "' and '" +
                                       n.name + "'");
      }
    }
  }
  return Status::OK();
}

Result<std::vector<int>> AssignParallelism(const detail::GraphDef& g) {
  std::vector<int> p(g.nodes.size());
  for (const detail::NodeDef& n : g.nodes) {
    int q = n.parallelism > 0 ? n.parallelism
                              : (n.non_parallel ? 1 : g.parallelism);
    if (n.parallelism < 0) {
      return Status::InvalidArgument(Describe(n) +
                                     ": parallelism must be at least 1");
    }
    if (q > g.max_parallelism) {
      return Status::InvalidArgument(
          Describe(n) + ": parallelism " + std::to_string(q) +
          " exceeds the max parallelism " + std::to_string(g.max_parallelism));
    }
    if (n.non_parallel && q != 1) {
      return Status::InvalidArgument(Describe(n) +
                                     " is a non-parallel source: parallelism "
                                     "must be 1, got " +
                                     std::to_string(q));
    }
    if (n.single_instance && q != 1) {
      return Status::InvalidArgument(
          Describe(n) +
          " was given a single function object, so it can "
          "run with parallelism 1 only (got " +
          std::to_string(q) + "); pass a factory instead");
    }
    p[n.index] = q;
  }
  return p;
}

bool Chainable(const detail::GraphDef& g, const std::vector<int>& p,
               const detail::NodeDef& n) {
  if (n.inputs.size() != 1 || !n.chain_to_input) return false;
  const detail::EdgeDef& e = n.inputs[0];
  return e.partitioning == detail::Partitioning::kForward &&
         p[e.source] == p[n.index] && !g.nodes[e.source].is_sink;
}

Result<std::vector<OperatorId>> ComputeIds(const detail::GraphDef& g,
                                           const std::vector<int>& p) {
  const size_t n = g.nodes.size();
  std::vector<std::vector<int>> consumers(n);
  for (const detail::NodeDef& node : g.nodes) {
    for (const detail::EdgeDef& e : node.inputs) {
      consumers[e.source].push_back(node.index);
    }
  }
  // Breadth-first from the sources in definition order; a node is hashed
  // once all its inputs are.
  std::vector<OperatorId> ids(n);
  std::vector<bool> done(n, false);
  std::deque<int> queue;
  for (const detail::NodeDef& node : g.nodes) {
    if (node.is_source) queue.push_back(node.index);
  }
  uint32_t position = 0;
  while (!queue.empty()) {
    const int i = queue.front();
    queue.pop_front();
    if (done[i]) continue;
    const detail::NodeDef& node = g.nodes[i];
    bool ready = true;
    for (const detail::EdgeDef& e : node.inputs) ready &= done[e.source];
    if (!ready) {
      queue.push_back(i);
      continue;
    }
    done[i] = true;
    const uint32_t my_position = position++;
    if (!node.uid_hash.empty()) {
      Result<OperatorId> id = OperatorId::FromHex(node.uid_hash);
      if (!id.ok()) return id.status().WithContext(Describe(node));
      ids[i] = *id;
    } else if (!node.uid.empty()) {
      ids[i] = OperatorId::FromUid(node.uid);
    } else {
      // The operator's place: its position in the traversal, how many of
      // its outputs are chained to it, and its inputs' ids.
      uint32_t chained_outputs = 0;
      for (int c : consumers[i]) chained_outputs += Chainable(g, p, g.nodes[c]);
      std::string buf = "weir-operator:";
      PutFixed32(&buf, my_position);
      PutFixed32(&buf, chained_outputs);
      for (const detail::EdgeDef& e : node.inputs) {
        buf.append(ids[e.source].bytes());
      }
      ids[i] = OperatorId(Hash128(buf));
    }
    for (int c : consumers[i]) queue.push_back(c);
  }
  std::map<OperatorId, int> seen;
  for (size_t i = 0; i < n; ++i) {
    auto [it, inserted] = seen.emplace(ids[i], static_cast<int>(i));
    if (!inserted) {
      return Status::InvalidArgument(
          Describe(g.nodes[i]) + " and " + Describe(g.nodes[it->second]) +
          " have the same operator id " + ids[i].ToHex());
    }
  }
  return ids;
}

}  // namespace

Result<std::vector<OperatorId>> AssignOperatorIds(
    const detail::GraphDef& graph) {
  Status s = CheckShape(graph);
  if (!s.ok()) return s;
  Result<std::vector<int>> p = AssignParallelism(graph);
  if (!p.ok()) return p.status();
  return ComputeIds(graph, *p);
}

Result<Plan> PlanGraph(const detail::GraphDef& g) {
  Status s = CheckShape(g);
  if (!s.ok()) return s;
  Plan plan;
  Result<std::vector<int>> p = AssignParallelism(g);
  if (!p.ok()) return p.status();
  plan.parallelism = std::move(*p);
  Result<std::vector<OperatorId>> ids = ComputeIds(g, plan.parallelism);
  if (!ids.ok()) return ids.status();
  plan.ids = std::move(*ids);

  const size_t n = g.nodes.size();
  plan.vertex_of.assign(n, -1);
  plan.chained.assign(n, false);
  plan.partitioning.resize(n);
  // Nodes are defined after their inputs, so index order is topological.
  for (const detail::NodeDef& node : g.nodes) {
    for (const detail::EdgeDef& e : node.inputs) {
      detail::Partitioning part = e.partitioning;
      if (part == detail::Partitioning::kForward &&
          plan.parallelism[e.source] != plan.parallelism[node.index]) {
        part = detail::Partitioning::kRebalance;
      }
      plan.partitioning[node.index].push_back(part);
    }
    if (Chainable(g, plan.parallelism, node)) {
      const int v = plan.vertex_of[node.inputs[0].source];
      plan.chained[node.index] = true;
      plan.vertex_of[node.index] = v;
      plan.vertices[v].nodes.push_back(node.index);
      plan.vertices[v].name += " -> " + node.name;
    } else {
      plan.vertex_of[node.index] = static_cast<int>(plan.vertices.size());
      Vertex v;
      v.nodes.push_back(node.index);
      v.parallelism = plan.parallelism[node.index];
      v.name = node.name;
      plan.vertices.push_back(std::move(v));
    }
  }
  return plan;
}

}  // namespace weir::engine
