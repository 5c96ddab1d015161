#include "apiserver/ops/metrics.h"

#include <dirent.h>
#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <fstream>

namespace kpp::apiserver::ops {
namespace {

// Taken while static objects are built, which is as close to the process' start as matters.
const double kProcessStartSeconds =
    std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();

void AppendHistogram(std::string& out, std::string_view name, const std::string& labels,
                     const std::array<uint64_t, kLatencyBuckets.size()>& buckets, uint64_t count,
                     double sum) {
  const std::string_view comma = labels.empty() ? "" : ",";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < buckets.size(); ++i) {
    cumulative += buckets[i];
    fmt::format_to(std::back_inserter(out), "{}_bucket{{{}{}le=\"{}\"}} {}\n", name, labels, comma,
                   kLatencyBuckets[i], cumulative);
  }
  fmt::format_to(std::back_inserter(out), "{}_bucket{{{}{}le=\"+Inf\"}} {}\n", name, labels, comma,
                 count);
  fmt::format_to(std::back_inserter(out), "{}_sum{{{}}} {}\n", name, labels, sum);
  fmt::format_to(std::back_inserter(out), "{}_count{{{}}} {}\n", name, labels, count);
}

void AppendHeader(std::string& out, std::string_view name, std::string_view type,
                  std::string_view help) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

size_t ResidentBytes(size_t* virtual_bytes) {
  std::ifstream statm("/proc/self/statm");
  size_t pages_virtual = 0, pages_resident = 0;
  statm >> pages_virtual >> pages_resident;
  const auto page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  *virtual_bytes = pages_virtual * page;
  return pages_resident * page;
}

size_t OpenFds() {
  size_t count = 0;
  if (DIR* dir = opendir("/proc/self/fd")) {
    while (const dirent* entry = readdir(dir)) {
      if (entry->d_name[0] != '.') ++count;
    }
    closedir(dir);
    if (count > 0) --count;  // the directory stream itself
  }
  return count;
}

size_t Threads() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("Threads:")) return std::stoul(line.substr(8));
  }
  return 0;
}

std::string RequestKey(const ApiMetrics::RequestLabels& l, bool with_dry_run) {
  std::string key;
  key.reserve(160);
  key += "component=\"apiserver\"";
  if (with_dry_run) key += ",dry_run=\"" + EscapeLabelValue(l.dry_run) + "\"";
  key += ",group=\"" + EscapeLabelValue(l.group) + "\"";
  key += ",resource=\"" + EscapeLabelValue(l.resource) + "\"";
  key += ",scope=\"" + EscapeLabelValue(l.scope) + "\"";
  key += ",subresource=\"" + EscapeLabelValue(l.subresource) + "\"";
  key += ",verb=\"" + EscapeLabelValue(l.verb) + "\"";
  key += ",version=\"" + EscapeLabelValue(l.version) + "\"";
  return key;
}

}  // namespace

std::string EscapeLabelValue(std::string_view value) {
  std::string escaped;
  escaped.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      escaped += "\\\\";
    } else if (c == '"') {
      escaped += "\\\"";
    } else if (c == '\n') {
      escaped += "\\n";
    } else {
      escaped += c;
    }
  }
  return escaped;
}

std::string ReportedVerb(const RequestInfo& info, std::string_view method,
                         std::string_view content_type) {
  if (info.verb == "watch") return "WATCH";
  if (info.verb == "list") return "LIST";
  if (method == "HEAD") return "GET";
  if (method == "PATCH" && content_type.starts_with("application/apply-patch+yaml")) {
    return "APPLY";
  }
  std::string verb(method);
  for (char& c : verb) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return verb;
}

ApiMetrics::RequestLabels ApiMetrics::LabelsOf(const RequestInfo& info, std::string_view method,
                                               std::string_view content_type,
                                               std::string_view dry_run) {
  RequestLabels labels;
  labels.verb = ReportedVerb(info, method, content_type);
  labels.dry_run = dry_run == "All" ? "All" : "";
  labels.group = info.api_group;
  labels.version = info.api_version;
  labels.resource = info.resource;
  labels.subresource = info.subresource;
  labels.scope = std::string(RequestScope(info));
  return labels;
}

void ApiMetrics::Histogram::Observe(double seconds) {
  for (size_t i = 0; i < kLatencyBuckets.size(); ++i) {
    if (seconds <= kLatencyBuckets[i]) {
      ++buckets[i];
      break;
    }
  }
  ++count;
  sum += seconds;
}

void ApiMetrics::ObserveRequest(const RequestLabels& labels, int code, double seconds) {
  std::string key = RequestKey(labels, true);
  std::string counted = fmt::format("code=\"{}\",{}", code, key);
  std::lock_guard lock(mutex_);
  ++requests_[std::move(counted)];
  if (seconds >= 0) durations_[std::move(key)].Observe(seconds);
}

void ApiMetrics::LongRunningStarted(const RequestLabels& labels) {
  std::string key = RequestKey(labels, false);
  std::lock_guard lock(mutex_);
  ++longrunning_[std::move(key)];
}

void ApiMetrics::LongRunningEnded(const RequestLabels& labels) {
  std::string key = RequestKey(labels, false);
  std::lock_guard lock(mutex_);
  --longrunning_[std::move(key)];
}

void ApiMetrics::InflightChanged(bool mutating, int delta) {
  (mutating ? inflight_mutating_ : inflight_readonly_) += delta;
}

void ApiMetrics::ObserveStorage(std::string_view operation, std::string_view type, double seconds) {
  std::string key = fmt::format("operation=\"{}\",type=\"{}\"", EscapeLabelValue(operation),
                                EscapeLabelValue(type));
  std::lock_guard lock(mutex_);
  storage_[std::move(key)].Observe(seconds);
}

std::string ApiMetrics::Render() const {
  std::string out;
  out.reserve(64 * 1024);
  {
    std::lock_guard lock(mutex_);
    AppendHeader(out, "apiserver_request_total", "counter",
                 "[STABLE] Requests answered, by verb, dry run, group, version, resource, "
                 "scope, component and HTTP status code.");
    for (const auto& [labels, count] : requests_) {
      fmt::format_to(std::back_inserter(out), "apiserver_request_total{{{}}} {}\n", labels, count);
    }
    AppendHeader(out, "apiserver_request_duration_seconds", "histogram",
                 "[STABLE] Time to answer requests, by verb, dry run, group, version, "
                 "resource, subresource, scope and component.");
    for (const auto& [labels, histogram] : durations_) {
      AppendHistogram(out, "apiserver_request_duration_seconds", labels, histogram.buckets,
                      histogram.count, histogram.sum);
    }
    AppendHeader(out, "apiserver_longrunning_requests", "gauge",
                 "[STABLE] Long-running requests (watches) being served now.");
    for (const auto& [labels, count] : longrunning_) {
      fmt::format_to(std::back_inserter(out), "apiserver_longrunning_requests{{{}}} {}\n", labels,
                     count);
    }
    AppendHeader(out, "etcd_request_duration_seconds", "histogram",
                 "[ALPHA] Time of calls into the storage, by operation and object type.");
    for (const auto& [labels, histogram] : storage_) {
      AppendHistogram(out, "etcd_request_duration_seconds", labels, histogram.buckets,
                      histogram.count, histogram.sum);
    }
  }
  AppendHeader(out, "apiserver_current_inflight_requests", "gauge",
               "[STABLE] Requests being handled now, read-only and mutating.");
  fmt::format_to(std::back_inserter(out),
                 "apiserver_current_inflight_requests{{request_kind=\"mutating\"}} {}\n"
                 "apiserver_current_inflight_requests{{request_kind=\"readOnly\"}} {}\n",
                 inflight_mutating_.load(), inflight_readonly_.load());

  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const double cpu = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                     static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  size_t virtual_bytes = 0;
  const size_t resident = ResidentBytes(&virtual_bytes);
  rlimit files{};
  getrlimit(RLIMIT_NOFILE, &files);
  AppendHeader(out, "process_cpu_seconds_total", "counter", "User and system CPU time, seconds.");
  fmt::format_to(std::back_inserter(out), "process_cpu_seconds_total {}\n", cpu);
  AppendHeader(out, "process_max_fds", "gauge", "Limit on open file descriptors.");
  fmt::format_to(std::back_inserter(out), "process_max_fds {}\n", files.rlim_cur);
  AppendHeader(out, "process_open_fds", "gauge", "Open file descriptors.");
  fmt::format_to(std::back_inserter(out), "process_open_fds {}\n", OpenFds());
  AppendHeader(out, "process_resident_memory_bytes", "gauge", "Resident memory, bytes.");
  fmt::format_to(std::back_inserter(out), "process_resident_memory_bytes {}\n", resident);
  AppendHeader(out, "process_start_time_seconds", "gauge",
               "When the process started, seconds since the Unix epoch.");
  fmt::format_to(std::back_inserter(out), "process_start_time_seconds {:.2f}\n",
                 kProcessStartSeconds);
  AppendHeader(out, "process_virtual_memory_bytes", "gauge", "Virtual memory, bytes.");
  fmt::format_to(std::back_inserter(out), "process_virtual_memory_bytes {}\n", virtual_bytes);
  // kpp has no goroutines; its threads are the nearest thing.
  AppendHeader(out, "process_threads", "gauge", "Operating system threads of the process.");
  fmt::format_to(std::back_inserter(out), "process_threads {}\n", Threads());
  return out;
}

}  // namespace kpp::apiserver::ops
