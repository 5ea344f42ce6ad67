// Server interceptor recording per-method request counts, errors by status code and latency
// (for streams: the stream's lifetime) as tickmesh_<service>_grpc_* metrics.
#pragma once

#include <string>

#include "grpcpp/support/server_interceptor.h"

namespace tickmesh::runtime::internal {

class MetricsInterceptorFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  // `service` as in ServerOptions::service.
  explicit MetricsInterceptorFactory(const std::string& service);
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

  struct MethodMetrics;

 private:
  MethodMetrics* ForMethod(const char* method);
  std::string prefix_;
};

}  // namespace tickmesh::runtime::internal
