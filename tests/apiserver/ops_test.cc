// The API server's operations pieces: request info (metrics labels), the Prometheus text,
// the -v=2 log line, gzip negotiation, the request timeout and the body-size message.
#include <gtest/gtest.h>
#include <zlib.h>

#include "apiserver/ops/gzip.h"
#include "apiserver/ops/instrumented_store.h"
#include "apiserver/ops/metrics.h"
#include "apiserver/ops/operations.h"
#include "apiserver/ops/request_info.h"

namespace kpp::apiserver::ops {
namespace {

using Query = std::vector<std::pair<std::string, std::string>>;

std::string Describe(const RequestInfo& info) {
  return (info.is_resource_request ? "resource " : "nonresource ") + info.verb +
         " g=" + info.api_group + " v=" + info.api_version + " ns=" + info.namespace_ +
         " r=" + info.resource + " sub=" + info.subresource + " name=" + info.name +
         " scope=" + std::string(RequestScope(info));
}

TEST(RequestInfoTest, ReadsPathsAsUpstreamsRequestInfoFactory) {
  struct Case {
    std::string method, path;
    Query query;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"GET",
       "/api/v1/namespaces/default/pods/p1",
       {},
       "resource get g= v=v1 ns=default r=pods sub= name=p1 scope=resource"},
      {"GET",
       "/api/v1/namespaces/default/pods",
       {},
       "resource list g= v=v1 ns=default r=pods sub= name= scope=namespace"},
      {"GET",
       "/api/v1/pods",
       {{"watch", "true"}},
       "resource watch g= v=v1 ns= r=pods sub= name= scope=cluster"},
      {"GET",
       "/api/v1/pods",
       {{"watch", "false"}},
       "resource list g= v=v1 ns= r=pods sub= name= scope=cluster"},
      {"GET",
       "/api/v1/namespaces/ns/pods",
       {{"fieldSelector", "metadata.name=web"}},
       "resource list g= v=v1 ns=ns r=pods sub= name=web scope=resource"},
      {"GET",
       "/api/v1/watch/namespaces/ns/pods/p",
       {},
       "resource watch g= v=v1 ns=ns r=pods sub= name=p scope=resource"},
      {"POST",
       "/apis/apps/v1/namespaces/ns/deployments",
       {},
       "resource create g=apps v=v1 ns=ns r=deployments sub= name= scope=resource"},
      {"PUT",
       "/apis/apps/v1/namespaces/ns/deployments/d/status",
       {},
       "resource update g=apps v=v1 ns=ns r=deployments sub=status name=d scope=resource"},
      {"DELETE",
       "/api/v1/namespaces/ns/configmaps",
       {},
       "resource deletecollection g= v=v1 ns=ns r=configmaps sub= name= scope=namespace"},
      {"GET",
       "/api/v1/namespaces/kube-system",
       {},
       "resource get g= v=v1 ns=kube-system r=namespaces sub= name=kube-system scope=resource"},
      {"PUT",
       "/api/v1/namespaces/gone/finalize",
       {},
       "resource update g= v=v1 ns=gone r=namespaces sub=finalize name=gone scope=resource"},
      {"GET", "/api/v1/nodes", {}, "resource list g= v=v1 ns= r=nodes sub= name= scope=cluster"},
      {"GET", "/apis/apps/v1", {}, "nonresource get g= v= ns= r= sub= name= scope="},
      {"GET", "/api", {}, "nonresource get g= v= ns= r= sub= name= scope="},
      {"GET", "/healthz", {}, "nonresource get g= v= ns= r= sub= name= scope="},
      {"GET", "/api/v1/watch", {}, "nonresource get g= v= ns= r= sub= name= scope="},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(Describe(ParseRequestInfo(c.method, c.path, c.query)), c.want)
        << c.method << " " << c.path;
  }
}

TEST(MetricsTest, ReportsVerbsAsUpstreamsMetrics) {
  const auto verb = [](std::string method, std::string path, Query query = {},
                       std::string content_type = "") {
    return ReportedVerb(ParseRequestInfo(method, path, query), method, content_type);
  };
  EXPECT_EQ(verb("GET", "/api/v1/pods"), "LIST");
  EXPECT_EQ(verb("GET", "/api/v1/pods", {{"watch", "1"}}), "WATCH");
  EXPECT_EQ(verb("GET", "/api/v1/namespaces/a/pods/b"), "GET");
  EXPECT_EQ(verb("POST", "/api/v1/namespaces/a/pods"), "POST");
  EXPECT_EQ(verb("PATCH", "/api/v1/namespaces/a/pods/b", {}, "application/merge-patch+json"),
            "PATCH");
  EXPECT_EQ(verb("PATCH", "/api/v1/namespaces/a/pods/b", {}, "application/apply-patch+yaml"),
            "APPLY");
  EXPECT_EQ(verb("DELETE", "/api/v1/namespaces/a/pods"), "DELETE");
}

TEST(MetricsTest, RendersCountersAndHistogramsInPrometheusTextFormat) {
  ApiMetrics metrics;
  const auto labels = ApiMetrics::LabelsOf(
      ParseRequestInfo("GET", "/api/v1/namespaces/default/pods/p", {}), "GET", "", "");
  metrics.ObserveRequest(labels, 200, 0.003);
  metrics.ObserveRequest(labels, 200, 0.07);
  metrics.ObserveRequest(labels, 404, 0.001);
  const auto create = ApiMetrics::LabelsOf(
      ParseRequestInfo("POST", "/apis/apps/v1/namespaces/a/deployments", {}), "POST", "", "All");
  metrics.ObserveRequest(create, 201, 0.2);
  metrics.LongRunningStarted(labels);
  metrics.ObserveStorage("txn", "pods", 0.004);
  const std::string text = metrics.Render();
  const std::string get_labels =
      "component=\"apiserver\",dry_run=\"\",group=\"\",resource=\"pods\",scope=\"resource\","
      "subresource=\"\",verb=\"GET\",version=\"v1\"";
  EXPECT_NE(text.find("# TYPE apiserver_request_total counter\n"), std::string::npos) << text;
  EXPECT_NE(text.find("apiserver_request_total{code=\"200\"," + get_labels + "} 2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("apiserver_request_total{code=\"404\"," + get_labels + "} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("apiserver_request_total{code=\"201\",component=\"apiserver\","
                      "dry_run=\"All\",group=\"apps\",resource=\"deployments\",scope=\"resource\","
                      "subresource=\"\",verb=\"POST\",version=\"v1\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE apiserver_request_duration_seconds histogram\n"), std::string::npos);
  // Cumulative buckets: 0.003 and 0.001 are under 5 ms, 0.07 under 100 ms.
  EXPECT_NE(
      text.find("apiserver_request_duration_seconds_bucket{" + get_labels + ",le=\"0.005\"} 2\n"),
      std::string::npos)
      << text;
  EXPECT_NE(
      text.find("apiserver_request_duration_seconds_bucket{" + get_labels + ",le=\"0.05\"} 2\n"),
      std::string::npos);
  EXPECT_NE(
      text.find("apiserver_request_duration_seconds_bucket{" + get_labels + ",le=\"0.1\"} 3\n"),
      std::string::npos);
  EXPECT_NE(text.find("apiserver_request_duration_seconds_bucket{" + get_labels + ",le=\"1\"} 3\n"),
            std::string::npos);
  EXPECT_NE(
      text.find("apiserver_request_duration_seconds_bucket{" + get_labels + ",le=\"+Inf\"} 3\n"),
      std::string::npos);
  EXPECT_NE(text.find("apiserver_request_duration_seconds_count{" + get_labels + "} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("apiserver_longrunning_requests{component=\"apiserver\",group=\"\","
                      "resource=\"pods\",scope=\"resource\",subresource=\"\",verb=\"GET\","
                      "version=\"v1\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("etcd_request_duration_seconds_count{operation=\"txn\",type=\"pods\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("\nprocess_resident_memory_bytes "), std::string::npos);
  EXPECT_NE(text.find("\nprocess_start_time_seconds "), std::string::npos);
  EXPECT_NE(text.find("\nprocess_open_fds "), std::string::npos);
  // Every line is a comment or `name{labels} value` / `name value`.
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    ASSERT_NE(end, std::string::npos);
    const std::string line = text.substr(start, end - start);
    if (!line.starts_with("# HELP ") && !line.starts_with("# TYPE ")) {
      const size_t space = line.rfind(' ');
      ASSERT_NE(space, std::string::npos) << line;
      EXPECT_NO_THROW((void)std::stod(line.substr(space + 1))) << line;
    }
    start = end + 1;
  }
}

TEST(MetricsTest, NamesStorageTypesByResource) {
  EXPECT_EQ(StorageType("/registry/core/pods/default/web"), "pods");
  EXPECT_EQ(StorageType("/registry/apps/deployments/ns/d"), "deployments.apps");
  EXPECT_EQ(StorageType("/registry/core/namespaces/kube-system"), "namespaces");
  EXPECT_EQ(StorageType("/registry/apps/deployments/"), "deployments.apps");
  EXPECT_EQ(StorageType("/other"), "");
  EXPECT_EQ(StorageType("/registry/x"), "");
}

TEST(MetricsTest, EscapesLabelValues) {
  EXPECT_EQ(EscapeLabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

TEST(RequestLogTest, WritesUpstreamsHttplogLine) {
  http::Request request;
  request.method = "GET";
  request.target = "/api/v1/pods?limit=500";
  request.path = "/api/v1/pods";
  request.headers = {{"User-Agent", "kubectl/v1.33.0 (linux/amd64) kubernetes/abc"}};
  request.remote_address = "127.0.0.1:5555";
  EXPECT_EQ(HttpLogLine(request, "LIST", 200, 0.0012),
            "\"HTTP\" verb=\"LIST\" URI=\"/api/v1/pods?limit=500\" latency=\"1.2ms\" "
            "userAgent=\"kubectl/v1.33.0 (linux/amd64) kubernetes/abc\" audit-ID=\"\" "
            "srcIP=\"127.0.0.1:5555\" resp=200");
  EXPECT_NE(HttpLogLine(request, "LIST", 200, 0.0012, "4f1c").find("audit-ID=\"4f1c\""),
            std::string::npos);
}

std::string Gunzip(const std::string& data) {
  z_stream stream{};
  EXPECT_EQ(inflateInit2(&stream, 15 + 16), Z_OK);
  std::string out(1 << 22, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(inflate(&stream, Z_FINISH), Z_STREAM_END);
  out.resize(stream.total_out);
  inflateEnd(&stream);
  return out;
}

TEST(GzipTest, NegotiatesLikeUpstream) {
  EXPECT_TRUE(AcceptsGzip("gzip"));
  EXPECT_TRUE(AcceptsGzip("deflate, GZIP;q=0.5"));
  EXPECT_TRUE(AcceptsGzip(" br , gzip "));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0.000"));
  EXPECT_FALSE(AcceptsGzip("deflate, br"));
  EXPECT_FALSE(AcceptsGzip("x-gzip"));
  EXPECT_FALSE(AcceptsGzip(""));
}

TEST(GzipTest, CompressesOnlyLargeBodiesForClientsThatAsk) {
  http::Request asks;
  asks.headers = {{"Accept-Encoding", "gzip"}};
  const std::string large(kGzipThresholdBytes + 1, 'x');

  http::Response small{200, {}, std::string(kGzipThresholdBytes, 'x')};
  MaybeGzip(asks, small);
  EXPECT_EQ(small.body.size(), kGzipThresholdBytes);
  EXPECT_EQ(small.headers.size(), 0u);

  http::Response not_asked{200, {}, large};
  MaybeGzip(http::Request{}, not_asked);
  EXPECT_EQ(not_asked.body, large);

  http::Response big{200, {{"Content-Type", "application/json"}}, large};
  MaybeGzip(asks, big);
  ASSERT_LT(big.body.size(), large.size());
  EXPECT_EQ(Gunzip(big.body), large);
  ASSERT_EQ(big.headers.size(), 3u);
  EXPECT_EQ(big.headers[1].name, "Content-Encoding");
  EXPECT_EQ(big.headers[1].value, "gzip");
  EXPECT_EQ(big.headers[2].name, "Vary");
  EXPECT_EQ(big.headers[2].value, "Accept-Encoding");
}

TEST(LimitsTest, RequestTimeoutFollowsTheTimeoutParameterUpToTheDefault) {
  http::Request request;
  EXPECT_EQ(RequestTimeout(request), std::chrono::milliseconds(60'000));
  request.query = {{"timeout", "5s"}};
  EXPECT_EQ(RequestTimeout(request), std::chrono::milliseconds(5'000));
  request.query = {{"timeout", "1500ms"}};
  EXPECT_EQ(RequestTimeout(request), std::chrono::milliseconds(1'500));
  request.query = {{"timeout", "10m"}};
  EXPECT_EQ(RequestTimeout(request), std::chrono::milliseconds(60'000));
  request.query = {{"timeout", "bogus"}};
  EXPECT_EQ(RequestTimeout(request), std::chrono::milliseconds(60'000));
  request.query = {{"watch", "true"}, {"timeout", "5s"}};
  EXPECT_EQ(RequestTimeout(request), std::chrono::milliseconds(0));
  EXPECT_EQ(BodyTooLargeMessage(kMaxRequestBodyBytes),
            "Request entity too large: limit is 3145728");
}

}  // namespace
}  // namespace kpp::apiserver::ops
