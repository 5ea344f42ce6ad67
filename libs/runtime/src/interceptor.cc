#include "interceptor.h"

#include <mutex>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "tickmesh/runtime/clock.h"
#include "tickmesh/runtime/metrics.h"

namespace tickmesh::runtime::internal {

struct MetricsInterceptorFactory::MethodMetrics {
  std::string method;
  prometheus::Counter* requests;
  prometheus::Histogram* latency;
  prometheus::Family<prometheus::Counter>* errors;
};

namespace {

const char* CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::OK: return "OK";
    case grpc::CANCELLED: return "CANCELLED";
    case grpc::UNKNOWN: return "UNKNOWN";
    case grpc::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::NOT_FOUND: return "NOT_FOUND";
    case grpc::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::ABORTED: return "ABORTED";
    case grpc::OUT_OF_RANGE: return "OUT_OF_RANGE";
    case grpc::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::INTERNAL: return "INTERNAL";
    case grpc::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::DATA_LOSS: return "DATA_LOSS";
    case grpc::UNAUTHENTICATED: return "UNAUTHENTICATED";
    default: return "OTHER";
  }
}

class MetricsInterceptor : public grpc::experimental::Interceptor {
 public:
  explicit MetricsInterceptor(MetricsInterceptorFactory::MethodMetrics* m) : m_(m) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      start_ns_ = MonotonicNs();
      m_->requests->Increment();
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      grpc::Status status = methods->GetSendStatus();
      if (start_ns_ != 0) m_->latency->Observe(double(MonotonicNs() - start_ns_) / 1e9);
      if (!status.ok()) {
        m_->errors->Add({{"method", m_->method}, {"code", CodeName(status.error_code())}})
            .Increment();
      }
    }
    methods->Proceed();
  }

 private:
  MetricsInterceptorFactory::MethodMetrics* m_;
  int64_t start_ns_ = 0;
};

}  // namespace

MetricsInterceptorFactory::MetricsInterceptorFactory(const std::string& service)
    : prefix_(MetricPrefix(service)) {}

MetricsInterceptorFactory::MethodMetrics* MetricsInterceptorFactory::ForMethod(const char* method) {
  static std::mutex mu;
  static auto* by_method = new std::unordered_map<std::string, MethodMetrics*>();
  std::lock_guard<std::mutex> lock(mu);
  std::string key = absl::StrCat(prefix_, method ? method : "unknown");
  auto it = by_method->find(key);
  if (it != by_method->end()) return it->second;
  auto* m = new MethodMetrics();  // lives for the process, like the registry
  m->method = method ? method : "unknown";
  m->requests = &CounterFamily(prefix_ + "grpc_requests_total",
                               "gRPC calls started, by full method name.")
                     .Add({{"method", m->method}});
  m->latency = &HistogramFamily(prefix_ + "grpc_request_duration_seconds",
                                "gRPC call duration (stream lifetime for streams), by method.")
                    .Add({{"method", m->method}}, LatencyBuckets());
  m->errors = &CounterFamily(prefix_ + "grpc_errors_total",
                             "gRPC calls that ended with a non-OK status, by method and code.");
  (*by_method)[key] = m;
  return m;
}

grpc::experimental::Interceptor* MetricsInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  return new MetricsInterceptor(ForMethod(info->method()));
}

}  // namespace tickmesh::runtime::internal
