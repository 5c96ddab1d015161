// Printers of networking.k8s.io (Ingress, IngressClass, NetworkPolicy), discovery.k8s.io
// (EndpointSlice) and rbac.authorization.k8s.io (RoleBinding, ClusterRoleBinding; roles use the
// generic table, as upstream's do).
#include <fmt/format.h>

#include <set>

#include "api/discovery.k8s.io/v1/types.h"
#include "api/networking.k8s.io/v1/types.h"
#include "api/rbac.authorization.k8s.io/v1/types.h"
#include "apiserver/printers/registry.h"

namespace kpp::apiserver::printers {
namespace {

namespace networking = api::networking_k8s_io::v1;
namespace discovery = api::discovery_k8s_io::v1;
namespace rbac = api::rbac_authorization_k8s_io::v1;

// Up to three hosts, then " + N more..." counting every rule; "*" when no rule names a host.
std::string IngressHosts(const std::vector<networking::IngressRule>& rules) {
  constexpr size_t kMax = 3;
  std::vector<std::string> hosts;
  bool more = false;
  for (const auto& rule : rules) {
    if (hosts.size() == kMax) more = true;
    if (!more && !rule.host.empty()) hosts.push_back(rule.host);
  }
  if (hosts.empty()) return "*";
  std::string text;
  for (const auto& host : hosts) {
    if (!text.empty()) text += ',';
    text += host;
  }
  if (more) text += fmt::format(" + {} more...", rules.size() - kMax);
  return text;
}

std::string IngressAddress(const networking::IngressLoadBalancerStatus& status) {
  std::set<std::string> addresses;
  for (const auto& entry : status.ingress) {
    if (!entry.ip.empty()) {
      addresses.insert(entry.ip);
    } else if (!entry.hostname.empty()) {
      addresses.insert(entry.hostname);
    }
  }
  // The server prints wide, so the list is not clipped.
  std::string text;
  for (const auto& address : addresses) {
    if (!text.empty()) text += ',';
    text += address;
  }
  return text;
}

void PrintIngress(const networking::Ingress& ingress, const PrintContext& context, Row& row) {
  row.cells.push_back(Cell(ingress.metadata.name));
  row.cells.push_back(Cell(ingress.spec.ingress_class_name.value_or("<none>")));
  row.cells.push_back(Cell(IngressHosts(ingress.spec.rules)));
  row.cells.push_back(Cell(IngressAddress(ingress.status.load_balancer)));
  row.cells.push_back(Cell(ingress.spec.tls.empty() ? "80" : "80, 443"));
  row.cells.push_back(Cell(Age(ingress.metadata, context)));
}

void PrintIngressClass(const networking::IngressClass& object, const PrintContext& context,
                       Row& row) {
  std::string parameters = "<none>";
  if (const auto& reference = object.spec.parameters) {
    parameters = reference->kind;
    if (reference->api_group) parameters += "." + *reference->api_group;
    parameters += "/" + reference->name;
  }
  row.cells.push_back(Cell(object.metadata.name));
  row.cells.push_back(Cell(object.spec.controller));
  row.cells.push_back(Cell(parameters));
  row.cells.push_back(Cell(Age(object.metadata, context)));
}

void PrintNetworkPolicy(const networking::NetworkPolicy& object, const PrintContext& context,
                        Row& row) {
  row.cells.push_back(Cell(object.metadata.name));
  row.cells.push_back(Cell(FormatLabelSelector(&object.spec.pod_selector)));
  row.cells.push_back(Cell(Age(object.metadata, context)));
}

void PrintEndpointSlice(const discovery::EndpointSlice& slice, const PrintContext& context,
                        Row& row) {
  std::vector<std::string> ports;
  for (const auto& port : slice.ports) {
    if (port.port) {
      ports.push_back(std::to_string(*port.port));
    } else if (port.name) {
      ports.push_back(*port.name);
    } else {
      ports.push_back("*");
    }
  }
  std::vector<std::string> addresses;
  for (const auto& endpoint : slice.endpoints) {
    addresses.insert(addresses.end(), endpoint.addresses.begin(), endpoint.addresses.end());
  }
  row.cells.push_back(Cell(slice.metadata.name));
  row.cells.push_back(Cell(slice.address_type));
  row.cells.push_back(Cell(ListWithMore(ports, 3, "<unset>")));
  row.cells.push_back(Cell(ListWithMore(addresses, 3, "<unset>")));
  row.cells.push_back(Cell(Age(slice.metadata, context)));
}

std::string JoinSubjects(const std::vector<std::string>& names) {
  std::string text;
  for (const auto& name : names) {
    if (!text.empty()) text += ", ";
    text += name;
  }
  return text;
}

template <typename Binding>
void PrintBinding(const Binding& binding, const PrintContext& context, Row& row) {
  std::vector<std::string> users;
  std::vector<std::string> groups;
  std::vector<std::string> service_accounts;
  for (const auto& subject : binding.subjects) {
    if (subject.kind == "ServiceAccount") {
      service_accounts.push_back(subject.namespace_ + "/" + subject.name);
    } else if (subject.kind == "User") {
      users.push_back(subject.name);
    } else if (subject.kind == "Group") {
      groups.push_back(subject.name);
    }
  }
  row.cells.push_back(Cell(binding.metadata.name));
  row.cells.push_back(Cell(binding.role_ref.kind + "/" + binding.role_ref.name));
  row.cells.push_back(Cell(Age(binding.metadata, context)));
  row.cells.push_back(Cell(JoinSubjects(users)));
  row.cells.push_back(Cell(JoinSubjects(groups)));
  row.cells.push_back(Cell(JoinSubjects(service_accounts)));
}

std::vector<Column> BindingColumns() {
  return {NameColumn(),
          {"Role", "string", "", "The role the binding grants.", 0},
          AgeColumn(),
          {"Users", "string", "", "The users the role is granted to.", 1},
          {"Groups", "string", "", "The groups the role is granted to.", 1},
          {"ServiceAccounts", "string", "", "The service accounts the role is granted to.", 1}};
}

}  // namespace

void AddNetworkingPrinters(PrinterMap& printers) {
  printers[{"networking.k8s.io", "Ingress"}] = {
      {NameColumn(),
       {"Class", "string", "", "The IngressClass that configures the ingress.", 0},
       {"Hosts", "string", "", "The hosts the rules match.", 0},
       {"Address", "string", "", "Where the load balancer is reachable.", 0},
       {"Ports", "string", "", "The ports the ingress serves.", 0},
       AgeColumn()},
      &PrintAs<networking::Ingress, PrintIngress>};
  printers[{"networking.k8s.io", "IngressClass"}] = {
      {NameColumn(),
       {"Controller", "string", "", "The controller that implements the class.", 0},
       {"Parameters", "string", "", "The object holding the class's parameters.", 0},
       AgeColumn()},
      &PrintAs<networking::IngressClass, PrintIngressClass>};
  printers[{"networking.k8s.io", "NetworkPolicy"}] = {
      {NameColumn(),
       {"Pod-Selector", "string", "", "The pods the policy applies to.", 0},
       AgeColumn()},
      &PrintAs<networking::NetworkPolicy, PrintNetworkPolicy>};
  printers[{"discovery.k8s.io", "EndpointSlice"}] = {
      {NameColumn(),
       {"AddressType", "string", "", "The kind of addresses in the slice.", 0},
       {"Ports", "string", "", "The ports of the endpoints.", 0},
       {"Endpoints", "string", "", "The addresses of the endpoints.", 0},
       AgeColumn()},
      &PrintAs<discovery::EndpointSlice, PrintEndpointSlice>};
  printers[{"rbac.authorization.k8s.io", "RoleBinding"}] = {
      BindingColumns(), &PrintAs<rbac::RoleBinding, PrintBinding<rbac::RoleBinding>>};
  printers[{"rbac.authorization.k8s.io", "ClusterRoleBinding"}] = {
      BindingColumns(), &PrintAs<rbac::ClusterRoleBinding, PrintBinding<rbac::ClusterRoleBinding>>};
}

}  // namespace kpp::apiserver::printers
