// What one scheduling cycle sees: every known node's NodeInfo in a fixed order, shared with
// the cache (never copied per cycle), and how many nodes hold each image.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "scheduler/framework/types.h"

namespace kpp::scheduler {

struct Snapshot {
  std::vector<NodeInfoPtr> nodes;
  std::unordered_map<std::string, size_t> index;     // node name -> position in `nodes`
  std::unordered_map<std::string, int> image_nodes;  // normalized image -> nodes with it
  std::vector<NodeInfoPtr> nodes_with_affinity_pods;
  std::vector<NodeInfoPtr> nodes_with_required_anti_affinity_pods;
  int64_t generation = -1;

  const NodeInfo* Get(const std::string& name) const {
    auto it = index.find(name);
    return it == index.end() ? nullptr : nodes[it->second].get();
  }
  int NodesWithImage(const std::string& image) const {
    auto it = image_nodes.find(image);
    return it == image_nodes.end() ? 0 : it->second;
  }
};

}  // namespace kpp::scheduler
