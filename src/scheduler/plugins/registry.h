// The in-tree plugins, by upstream's names, with upstream's semantics and error texts.
#pragma once

#include "apimachinery/labels/selector.h"
#include "scheduler/framework/framework.h"

namespace kpp::scheduler::plugins {

Registry InTreeRegistry();

// Factories, also used directly by unit tests.
Result<std::shared_ptr<Plugin>> NewPrioritySort(const boost::json::value* args, Handle* handle);
Result<std::shared_ptr<Plugin>> NewSchedulingGates(const boost::json::value* args, Handle* handle);
Result<std::shared_ptr<Plugin>> NewNodeUnschedulable(const boost::json::value* args,
                                                     Handle* handle);
Result<std::shared_ptr<Plugin>> NewNodeName(const boost::json::value* args, Handle* handle);
Result<std::shared_ptr<Plugin>> NewNodePorts(const boost::json::value* args, Handle* handle);
Result<std::shared_ptr<Plugin>> NewTaintToleration(const boost::json::value* args, Handle* handle);
Result<std::shared_ptr<Plugin>> NewNodeAffinity(const boost::json::value* args, Handle* handle);
Result<std::shared_ptr<Plugin>> NewNodeResourcesFit(const boost::json::value* args, Handle* handle);
Result<std::shared_ptr<Plugin>> NewBalancedAllocation(const boost::json::value* args,
                                                      Handle* handle);
Result<std::shared_ptr<Plugin>> NewImageLocality(const boost::json::value* args, Handle* handle);
Result<std::shared_ptr<Plugin>> NewDefaultBinder(const boost::json::value* args, Handle* handle);
Result<std::shared_ptr<Plugin>> NewPodTopologySpread(const boost::json::value* args,
                                                     Handle* handle);
Result<std::shared_ptr<Plugin>> NewInterPodAffinity(const boost::json::value* args, Handle* handle);
Result<std::shared_ptr<Plugin>> NewDefaultPreemption(const boost::json::value* args,
                                                     Handle* handle);

// Shared helpers.
bool TolerationToleratesTaint(const api::core::v1::Toleration& toleration,
                              const api::core::v1::Taint& taint);
// The first taint with one of `effects` that no toleration tolerates, or null.
const api::core::v1::Taint* FindUntoleratedTaint(
    const std::vector<api::core::v1::Taint>& taints,
    const std::vector<api::core::v1::Toleration>& tolerations,
    const std::vector<std::string>& effects);
// nodeSelector and required node affinity (upstream's GetRequiredNodeAffinity().Match).
bool PodMatchesNodeSelectorAndAffinityTerms(const Pod& pod, const Node& node);
// A pod label selector from the API type; null selects nothing (upstream's
// LabelSelectorAsSelector), an invalid one nothing either.
labels::Selector SelectorOf(const api::meta::v1::LabelSelector* selector);
bool NodeSelectorTermMatches(const api::core::v1::NodeSelectorTerm& term, const Node& node);

}  // namespace kpp::scheduler::plugins
