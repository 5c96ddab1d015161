// The endpoints, EndpointSlice and EndpointSlice mirroring syncs against fake listers and a
// client that records its requests.
#include <gtest/gtest.h>

#include "controllers/endpoint/endpoints_controller.h"
#include "controllers/endpointslice/endpointslice_controller.h"
#include "controllers/endpointslicemirroring/mirroring_controller.h"
#include "fakes.h"

namespace kpp::controllers {
namespace {

using api::core::v1::EndpointAddress;
using api::core::v1::EndpointSubset;
using testing::FakeLister;

class FakeEndpointsClient final : public EndpointsClient {
 public:
  Result<Endpoints> CreateEndpoints(const Endpoints& endpoints) override {
    actions.push_back("create endpoints " + endpoints.metadata.name);
    written_endpoints.push_back(endpoints);
    return endpoints;
  }
  Result<Endpoints> UpdateEndpoints(const Endpoints& endpoints) override {
    actions.push_back("update endpoints " + endpoints.metadata.name);
    written_endpoints.push_back(endpoints);
    return endpoints;
  }
  Status DeleteEndpoints(const std::string& ns, const std::string& name) override {
    actions.push_back("delete endpoints " + ns + "/" + name);
    return Ok();
  }
  Result<EndpointSlice> CreateEndpointSlice(const EndpointSlice& slice) override {
    actions.push_back("create slice " + slice.metadata.generate_name);
    created_slices.push_back(slice);
    return slice;
  }
  Result<EndpointSlice> UpdateEndpointSlice(const EndpointSlice& slice) override {
    actions.push_back("update slice " + slice.metadata.name);
    updated_slices.push_back(slice);
    return slice;
  }
  Status DeleteEndpointSlice(const std::string& ns, const std::string& name) override {
    actions.push_back("delete slice " + ns + "/" + name);
    return Ok();
  }

  std::vector<std::string> actions;
  std::vector<Endpoints> written_endpoints;
  std::vector<EndpointSlice> created_slices;
  std::vector<EndpointSlice> updated_slices;
};

struct PodShape {
  std::string name;
  std::string ip;
  bool ready = true;
  bool terminating = false;
  std::string node = "node-1";
  std::map<std::string, std::string> labels = {{"app", "web"}};
  std::string http_port_name = "http";  // the container port's name
  int32_t http_port = 8080;
  std::string hostname;
  std::string subdomain;
  std::string phase = "Running";
};

Pod MakePod(const PodShape& shape) {
  Pod pod;
  pod.metadata.name = shape.name;
  pod.metadata.namespace_ = "default";
  pod.metadata.uid = "uid-" + shape.name;
  pod.metadata.labels = shape.labels;
  pod.metadata.creation_timestamp = api::Time::FromUnixSeconds(1'700'000'000);
  if (shape.terminating)
    pod.metadata.deletion_timestamp = api::Time::FromUnixSeconds(1'700'000'500);
  pod.spec.node_name = shape.node;
  pod.spec.hostname = shape.hostname;
  pod.spec.subdomain = shape.subdomain;
  pod.spec.restart_policy = "Always";
  api::core::v1::Container container;
  container.name = "app";
  api::core::v1::ContainerPort port;
  port.name = shape.http_port_name;
  port.container_port = shape.http_port;
  port.protocol = "TCP";
  container.ports.push_back(port);
  pod.spec.containers.push_back(container);
  pod.status.phase = shape.phase;
  pod.status.pod_ip = shape.ip;
  if (!shape.ip.empty()) pod.status.pod_ips.push_back({shape.ip});
  api::core::v1::PodCondition ready;
  ready.type = "Ready";
  ready.status = shape.ready ? "True" : "False";
  ready.last_transition_time = api::Time::FromUnixSeconds(1'700'000'100);
  pod.status.conditions.push_back(ready);
  return pod;
}

Service MakeService(bool named_port = true) {
  Service service;
  service.metadata.name = "web";
  service.metadata.namespace_ = "default";
  service.metadata.uid = "svc-uid";
  service.metadata.labels = {{"team", "a"}};
  service.metadata.creation_timestamp = api::Time::FromUnixSeconds(1'699'999'000);
  service.spec.selector = {{"app", "web"}};
  service.spec.cluster_ip = "10.43.0.10";
  api::core::v1::ServicePort port;
  port.name = "http";
  port.protocol = "TCP";
  port.port = 80;
  port.target_port =
      named_port ? api::IntOrString::FromString("http") : api::IntOrString::FromInt(8080);
  service.spec.ports.push_back(port);
  return service;
}

std::vector<std::string> Ips(const std::vector<EndpointAddress>& addresses) {
  std::vector<std::string> out;
  for (const auto& address : addresses)
    out.push_back(address.ip);
  return out;
}

// --- Endpoints ---

TEST(DesiredEndpointsTest, ReadinessPortsAndHostnames) {
  struct Case {
    std::string name;
    std::vector<PodShape> pods;
    std::function<void(Service&)> edit_service = [](Service&) {};
    // One entry per subset: ready IPs, not-ready IPs, ports.
    std::vector<
        std::tuple<std::vector<std::string>, std::vector<std::string>, std::vector<int32_t>>>
        want;
  };
  const std::vector<Case> cases = {
      {.name = "ready and not ready",
       .pods = {{.name = "b", .ip = "10.0.0.2"},
                {.name = "a", .ip = "10.0.0.1"},
                {.name = "c", .ip = "10.0.0.3", .ready = false}},
       .want = {{{"10.0.0.1", "10.0.0.2"}, {"10.0.0.3"}, {8080}}}},
      {.name = "no IP, terminating, finished, other labels are left out",
       .pods = {{.name = "a", .ip = "10.0.0.1"},
                {.name = "noip", .ip = ""},
                {.name = "gone", .ip = "10.0.0.5", .terminating = true},
                {.name = "other", .ip = "10.0.0.6", .labels = {{"app", "db"}}}},
       .want = {{{"10.0.0.1"}, {}, {8080}}}},
      {.name = "publishNotReadyAddresses lists every pod as ready, terminating too",
       .pods = {{.name = "a", .ip = "10.0.0.1", .ready = false},
                {.name = "t", .ip = "10.0.0.2", .terminating = true}},
       .edit_service = [](Service& s) { s.spec.publish_not_ready_addresses = true; },
       .want = {{{"10.0.0.1", "10.0.0.2"}, {}, {8080}}}},
      {.name = "a named targetPort is resolved per pod; pods without it are left out",
       .pods = {{.name = "a", .ip = "10.0.0.1"},
                {.name = "b", .ip = "10.0.0.2", .http_port = 9090},
                {.name = "c", .ip = "10.0.0.3", .http_port_name = "metrics"}},
       .want = {{{"10.0.0.1"}, {}, {8080}}, {{"10.0.0.2"}, {}, {9090}}}},
      {.name = "headless without ports lists addresses without ports",
       .pods = {{.name = "a", .ip = "10.0.0.1"}},
       .edit_service =
           [](Service& s) {
             s.spec.cluster_ip = "None";
             s.spec.ports.clear();
           },
       .want = {{{"10.0.0.1"}, {}, {}}}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Service service = MakeService();
    c.edit_service(service);
    std::vector<std::shared_ptr<const Pod>> pods;
    for (const auto& shape : c.pods)
      pods.push_back(std::make_shared<const Pod>(MakePod(shape)));
    auto endpoints = DesiredEndpoints(service, pods);
    ASSERT_EQ(endpoints.subsets.size(), c.want.size());
    for (size_t i = 0; i < c.want.size(); ++i) {
      const auto& [ready, not_ready, ports] = c.want[i];
      EXPECT_EQ(Ips(endpoints.subsets[i].addresses), ready);
      EXPECT_EQ(Ips(endpoints.subsets[i].not_ready_addresses), not_ready);
      std::vector<int32_t> got_ports;
      for (const auto& port : endpoints.subsets[i].ports)
        got_ports.push_back(port.port);
      EXPECT_EQ(got_ports, ports);
    }
  }
}

TEST(DesiredEndpointsTest, AddressDetailsLabelsAndTriggerTime) {
  Service service = MakeService();
  service.spec.cluster_ip = "None";
  auto pod = std::make_shared<const Pod>(MakePod(
      {.name = "a", .ip = "10.0.0.1", .node = "node-7", .hostname = "a", .subdomain = "web"}));
  auto endpoints = DesiredEndpoints(service, {pod});
  ASSERT_EQ(endpoints.subsets.size(), 1u);
  const auto& address = endpoints.subsets[0].addresses.at(0);
  EXPECT_EQ(address.hostname, "a");
  EXPECT_EQ(address.node_name.value_or(""), "node-7");
  ASSERT_TRUE(address.target_ref.has_value());
  EXPECT_EQ(address.target_ref->kind, "Pod");
  EXPECT_EQ(address.target_ref->name, "a");
  EXPECT_EQ(address.target_ref->uid, "uid-a");
  EXPECT_EQ(endpoints.subsets[0].ports.at(0).name, "http");
  EXPECT_EQ(endpoints.subsets[0].ports.at(0).protocol, "TCP");
  EXPECT_EQ(endpoints.metadata.labels,
            (std::map<std::string, std::string>{{"team", "a"}, {kHeadlessLabel, ""}}));
  // The pod's Ready transition is later than the service's creation.
  EXPECT_EQ(endpoints.metadata.annotations.at(kLastChangeTriggerTimeAnnotation),
            api::Time::FromUnixSeconds(1'700'000'100).ToString());
}

TEST(EndpointsSyncerTest, CreatesUpdatesDeletesOrLeavesAlone) {
  struct Case {
    std::string name;
    bool service_exists = true;
    bool with_selector = true;
    std::optional<std::vector<std::string>> current_ready;  // existing Endpoints
    std::vector<std::string> want_actions;
  };
  const std::vector<Case> cases = {
      {.name = "missing endpoints are created", .want_actions = {"create endpoints web"}},
      {.name = "up-to-date endpoints are not written", .current_ready = {{"10.0.0.1"}}},
      {.name = "stale endpoints are updated",
       .current_ready = {{"10.0.0.9"}},
       .want_actions = {"update endpoints web"}},
      {.name = "a service without a selector is left alone",
       .with_selector = false,
       .current_ready = {{"10.0.0.9"}}},
      {.name = "the endpoints of a deleted service are deleted",
       .service_exists = false,
       .current_ready = {{"10.0.0.1"}},
       .want_actions = {"delete endpoints default/web"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    FakeLister<Pod> pods;
    pods.Add(MakePod({.name = "a", .ip = "10.0.0.1"}));
    FakeLister<Endpoints> endpoints;
    Service service = MakeService();
    if (!c.with_selector) service.spec.selector.clear();
    if (c.current_ready) {
      Endpoints current = DesiredEndpoints(MakeService(), {});
      current.metadata.resource_version = "42";
      EndpointSubset subset;
      for (const auto& ip : *c.current_ready) {
        EndpointAddress address;
        address.ip = ip;
        address.node_name = "node-1";
        address.target_ref = api::core::v1::ObjectReference{"Pod", "default", "a", "uid-a"};
        subset.addresses.push_back(address);
      }
      subset.ports.push_back({"http", 8080, "TCP", std::nullopt});
      current.subsets.push_back(subset);
      endpoints.Add(current);
    }
    FakeEndpointsClient client;
    EndpointsSyncer syncer(pods, endpoints, client);
    ASSERT_TRUE(syncer.Sync("default/web", c.service_exists ? &service : nullptr).ok());
    EXPECT_EQ(client.actions, c.want_actions);
    if (c.want_actions == std::vector<std::string>{"update endpoints web"}) {
      EXPECT_EQ(client.written_endpoints.at(0).metadata.resource_version, "42");
      EXPECT_EQ(Ips(client.written_endpoints.at(0).subsets.at(0).addresses),
                std::vector<std::string>{"10.0.0.1"});
    }
  }
}

// --- EndpointSlices ---

std::vector<std::string> SliceIps(const EndpointSlice& slice) {
  std::vector<std::string> out;
  for (const auto& endpoint : slice.endpoints)
    out.push_back(endpoint.addresses.at(0));
  return out;
}

TEST(EndpointSliceSyncerTest, NewSliceCarriesLabelsOwnerConditionsAndPorts) {
  FakeLister<Pod> pods;
  pods.Add(MakePod({.name = "a", .ip = "10.0.0.1"}));
  pods.Add(MakePod({.name = "b", .ip = "10.0.0.2", .ready = false}));
  pods.Add(MakePod({.name = "c", .ip = "10.0.0.3", .terminating = true}));
  FakeLister<EndpointSlice> slices;
  FakeEndpointsClient client;
  EndpointSliceSyncer syncer(pods, slices, client);
  Service service = MakeService();
  ASSERT_TRUE(syncer.Sync("default/web", &service).ok());
  ASSERT_EQ(client.actions, std::vector<std::string>{"create slice web-"});
  const auto& slice = client.created_slices.at(0);
  EXPECT_EQ(slice.address_type, "IPv4");
  EXPECT_EQ(slice.metadata.labels,
            (std::map<std::string, std::string>{
                {"team", "a"},
                {"kubernetes.io/service-name", "web"},
                {"endpointslice.kubernetes.io/managed-by", "endpointslice-controller.k8s.io"}}));
  ASSERT_EQ(slice.metadata.owner_references.size(), 1u);
  EXPECT_EQ(slice.metadata.owner_references[0].kind, "Service");
  EXPECT_EQ(slice.metadata.owner_references[0].uid, "svc-uid");
  EXPECT_TRUE(slice.metadata.owner_references[0].controller.value_or(false));
  EXPECT_TRUE(slice.metadata.annotations.contains(kLastChangeTriggerTimeAnnotation));
  ASSERT_EQ(slice.ports.size(), 1u);
  EXPECT_EQ(slice.ports[0].name.value_or("?"), "http");
  EXPECT_EQ(slice.ports[0].port.value_or(0), 8080);
  ASSERT_EQ(SliceIps(slice), (std::vector<std::string>{"10.0.0.1", "10.0.0.2", "10.0.0.3"}));
  struct Want {
    bool ready, serving, terminating;
  };
  const Want want[] = {{true, true, false}, {false, false, false}, {false, true, true}};
  for (size_t i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    const auto& conditions = slice.endpoints[i].conditions;
    EXPECT_EQ(conditions.ready, want[i].ready);
    EXPECT_EQ(conditions.serving, want[i].serving);
    EXPECT_EQ(conditions.terminating, want[i].terminating);
    EXPECT_EQ(slice.endpoints[i].node_name.value_or(""), "node-1");
    EXPECT_EQ(slice.endpoints[i].target_ref->uid, "uid-" + std::string(1, 'a' + i));
  }
}

TEST(EndpointSliceSyncerTest, ReconcilesAgainstExistingSlices) {
  struct Case {
    std::string name;
    std::vector<PodShape> pods;
    std::vector<std::vector<std::string>> existing;  // IPs of existing slices s0, s1, ...
    size_t max_per_slice = 100;
    std::vector<std::string> want_actions;
    std::vector<std::vector<std::string>> want_created;  // IPs
    std::vector<std::vector<std::string>> want_updated;
  };
  const std::vector<Case> cases = {
      {.name = "at most max endpoints per slice",
       .pods = {{.name = "a", .ip = "10.0.0.1"},
                {.name = "b", .ip = "10.0.0.2"},
                {.name = "c", .ip = "10.0.0.3"},
                {.name = "d", .ip = "10.0.0.4"},
                {.name = "e", .ip = "10.0.0.5"}},
       .max_per_slice = 2,
       .want_actions = {"create slice web-", "create slice web-", "create slice web-"},
       .want_created = {{"10.0.0.1", "10.0.0.2"}, {"10.0.0.3", "10.0.0.4"}, {"10.0.0.5"}}},
      {.name = "up to date: nothing written",
       .pods = {{.name = "a", .ip = "10.0.0.1"}},
       .existing = {{"10.0.0.1"}}},
      {.name = "a gone pod leaves its slice, a new one joins it",
       .pods = {{.name = "a", .ip = "10.0.0.1"}, {.name = "c", .ip = "10.0.0.3"}},
       .existing = {{"10.0.0.1", "10.0.0.2"}},
       .want_actions = {"update slice s0"},
       .want_updated = {{"10.0.0.1", "10.0.0.3"}}},
      {.name = "an emptied slice is deleted",
       .pods = {{.name = "a", .ip = "10.0.0.1"}},
       .existing = {{"10.0.0.1"}, {"10.0.0.2"}},
       .want_actions = {"delete slice default/s1"}},
      {.name = "no pods: one empty placeholder slice",
       .pods = {},
       .want_actions = {"create slice web-"},
       .want_created = {{}}},
      {.name = "pods serving different port numbers get a slice each",
       .pods = {{.name = "a", .ip = "10.0.0.1"},
                {.name = "b", .ip = "10.0.0.2", .http_port = 9090}},
       .want_actions = {"create slice web-", "create slice web-"},
       .want_created = {{"10.0.0.1"}, {"10.0.0.2"}}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Service service = MakeService();
    FakeLister<Pod> pods;
    std::vector<std::shared_ptr<const Pod>> all_pods;
    for (const auto& shape : c.pods) {
      pods.Add(MakePod(shape));
      all_pods.push_back(std::make_shared<const Pod>(MakePod(shape)));
    }
    FakeLister<EndpointSlice> slices;
    for (size_t i = 0; i < c.existing.size(); ++i) {
      EndpointSlice slice;
      slice.metadata.name = "s" + std::to_string(i);
      slice.metadata.namespace_ = "default";
      slice.metadata.labels = SliceLabelsFor(service);
      slice.metadata.owner_references.push_back(ControllerRef("v1", "Service", service.metadata));
      slice.address_type = "IPv4";
      auto groups = DesiredPortGroups(service, all_pods, nullptr);
      slice.ports = groups.begin()->second.ports;
      for (const auto& ip : c.existing[i]) {
        for (const auto& endpoint : groups.begin()->second.endpoints) {
          if (endpoint.addresses.at(0) == ip) slice.endpoints.push_back(endpoint);
        }
        if (slice.endpoints.empty() || slice.endpoints.back().addresses.at(0) != ip) {
          discovery::Endpoint stale;
          stale.addresses = {ip};
          slice.endpoints.push_back(stale);
        }
      }
      slices.Add(slice);
    }
    FakeEndpointsClient client;
    EndpointSliceSyncer syncer(pods, slices, client, c.max_per_slice);
    ASSERT_TRUE(syncer.Sync("default/web", &service).ok());
    EXPECT_EQ(client.actions, c.want_actions);
    std::vector<std::vector<std::string>> created, updated;
    for (const auto& slice : client.created_slices)
      created.push_back(SliceIps(slice));
    for (const auto& slice : client.updated_slices)
      updated.push_back(SliceIps(slice));
    EXPECT_EQ(created, c.want_created);
    EXPECT_EQ(updated, c.want_updated);
  }
}

TEST(EndpointSliceSyncerTest, ServiceWithoutSelectorGetsNoSlices) {
  FakeLister<Pod> pods;
  pods.Add(MakePod({.name = "a", .ip = "10.0.0.1"}));
  FakeLister<EndpointSlice> slices;
  FakeEndpointsClient client;
  EndpointSliceSyncer syncer(pods, slices, client);
  Service service = MakeService();
  service.spec.selector.clear();
  ASSERT_TRUE(syncer.Sync("default/web", &service).ok());
  EXPECT_TRUE(client.actions.empty());
}

// --- mirroring ---

TEST(EndpointSliceMirroringSyncerTest, MirrorsEndpointsOfSelectorlessServices) {
  struct Case {
    std::string name;
    bool service_has_selector = false;
    bool skip_mirror = false;
    bool existing_mirror = false;
    std::vector<std::string> want_actions;
  };
  const std::vector<Case> cases = {
      {.name = "mirrored", .want_actions = {"create slice external-"}},
      {.name = "a service with a selector is the EndpointSlice controller's",
       .service_has_selector = true},
      {.name = "skip-mirror label", .skip_mirror = true},
      {.name = "a mirror no longer wanted is deleted",
       .service_has_selector = true,
       .existing_mirror = true,
       .want_actions = {"delete slice default/external-abc"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Service service = MakeService();
    service.metadata.name = "external";
    if (!c.service_has_selector) service.spec.selector.clear();
    FakeLister<Service> services;
    services.Add(service);
    Endpoints endpoints;
    endpoints.metadata.name = "external";
    endpoints.metadata.namespace_ = "default";
    endpoints.metadata.uid = "ep-uid";
    if (c.skip_mirror) endpoints.metadata.labels[kSkipMirrorLabel] = "true";
    EndpointSubset subset;
    EndpointAddress ready;
    ready.ip = "192.168.1.1";
    EndpointAddress not_ready;
    not_ready.ip = "192.168.1.2";
    subset.addresses.push_back(ready);
    subset.not_ready_addresses.push_back(not_ready);
    subset.ports.push_back({"db", 5432, "TCP", std::nullopt});
    endpoints.subsets.push_back(subset);
    FakeLister<EndpointSlice> slices;
    if (c.existing_mirror) {
      EndpointSlice slice;
      slice.metadata.name = "external-abc";
      slice.metadata.namespace_ = "default";
      slice.metadata.labels = {{kServiceNameLabel, "external"},
                               {kManagedByLabel, kMirroringControllerName}};
      slices.Add(slice);
    }
    FakeEndpointsClient client;
    EndpointSliceMirroringSyncer syncer(services, slices, client);
    ASSERT_TRUE(syncer.Sync("default/external", &endpoints).ok());
    EXPECT_EQ(client.actions, c.want_actions);
    if (c.name == "mirrored") {
      const auto& slice = client.created_slices.at(0);
      EXPECT_EQ(slice.metadata.labels.at(kManagedByLabel),
                "endpointslicemirroring-controller.k8s.io");
      EXPECT_EQ(slice.metadata.labels.at(kServiceNameLabel), "external");
      EXPECT_EQ(slice.metadata.owner_references.at(0).kind, "Endpoints");
      EXPECT_EQ(slice.metadata.owner_references.at(0).uid, "ep-uid");
      ASSERT_EQ(SliceIps(slice), (std::vector<std::string>{"192.168.1.1", "192.168.1.2"}));
      EXPECT_EQ(slice.endpoints[0].conditions.ready, true);
      EXPECT_EQ(slice.endpoints[1].conditions.ready, false);
      EXPECT_EQ(slice.ports.at(0).port.value_or(0), 5432);
    }
  }
}

}  // namespace
}  // namespace kpp::controllers

namespace kpp::controllers {
namespace {

TEST(SliceTrackerTest, WaitsUntilTheCacheShowsOurWrites) {
  FakeClock clock;
  SliceTracker tracker(clock);
  auto slice = [](const std::string& name, const std::string& resource_version) {
    auto out = std::make_shared<EndpointSlice>();
    out->metadata.name = name;
    out->metadata.resource_version = resource_version;
    return std::shared_ptr<const EndpointSlice>(out);
  };
  EXPECT_TRUE(tracker.Fresh("ns/web", {}));
  EndpointSlice written;
  written.metadata.name = "web-abc";
  written.metadata.resource_version = "5";
  tracker.Written("ns/web", written);
  tracker.Deleted("ns/web", "web-old");
  EXPECT_FALSE(tracker.Fresh("ns/web", {slice("web-old", "2")}));
  EXPECT_FALSE(tracker.Fresh("ns/web", {slice("web-abc", "4"), slice("web-old", "2")}));
  EXPECT_FALSE(tracker.Fresh("ns/web", {slice("web-abc", "5"), slice("web-old", "2")}));
  EXPECT_TRUE(tracker.Fresh("ns/other", {}));
  EXPECT_TRUE(tracker.Fresh("ns/web", {slice("web-abc", "5")}));
  // An expectation never met stops counting after 30 s.
  tracker.Written("ns/web", written);
  clock.Advance(std::chrono::seconds(31));
  EXPECT_TRUE(tracker.Fresh("ns/web", {}));
}

}  // namespace
}  // namespace kpp::controllers
