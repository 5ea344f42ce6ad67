// ServiceHost: everything a tickmesh service process needs around its gRPC services.
//  - gRPC server (callback API) with grpc.health.v1 per service, server reflection, keepalive,
//    message size limits, and an interceptor recording per-method requests, errors and latency
//    (tickmesh_<service>_grpc_requests_total / _grpc_errors_total / _grpc_request_duration_seconds);
//  - admin HTTP: /metrics, /healthz (process alive), /readyz (serving and required dependencies
//    up), /status (JSON);
//  - dependency tracking: a required dependency that is down makes health NOT_SERVING;
//  - graceful shutdown on SIGTERM/SIGINT: readiness off, drain hooks (end streams), server
//    shutdown with a deadline, stop hooks (flush writes), exit 0.
//
// Example (main.cc):
//   auto host = ServiceHost::FromFlags("cache", 50054, 9104);
//   CacheGrpc grpc(&cache);
//   host.AddService(&grpc, "tickmesh.v1.CacheService");
//   return host.Run();
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "nlohmann/json.hpp"

namespace tickmesh::runtime {

struct ServerOptions {
  // Service name as in DESIGN ("market-data"); used in metric names, logs, /status.
  std::string service;
  // gRPC listen address; port 0 picks a free port (see ServiceHost::grpc_port()).
  std::string grpc_address = "0.0.0.0:0";
  // Admin HTTP listen address; port 0 picks a free port.
  std::string admin_address = "0.0.0.0:0";
  // Longest time streams get to drain on shutdown before being cancelled.
  absl::Duration drain_timeout = absl::Seconds(3);
  // Largest gRPC message accepted or sent.
  int max_message_bytes = 16 << 20;
};

class ServiceHost {
 public:
  // Options from the common flags (--grpc_address, --admin_address, --drain_timeout_ms), using
  // 0.0.0.0:<default port> when a flag is empty. A malformed address prints a message naming the
  // flag and exits 2, before the service does anything else.
  static ServerOptions OptionsFromFlags(std::string service, int default_grpc_port,
                                        int default_admin_port);

  explicit ServiceHost(ServerOptions options);
  ~ServiceHost();
  ServiceHost(const ServiceHost&) = delete;
  ServiceHost& operator=(const ServiceHost&) = delete;

  // Registers a gRPC service (sync or callback) under its full name, e.g.
  // "tickmesh.v1.CacheService"; its health status follows the host's. Call before Start().
  void AddService(grpc::Service* service, std::string full_name);

  // Declares a dependency shown in /status. A required one that is down makes the service
  // NOT_SERVING / not ready; an optional one only shows as degraded. Starts as down.
  void AddDependency(const std::string& name, bool required);
  // Thread-safe; logs transitions.
  void SetDependencyUp(const std::string& name, bool up);

  // Adds fields to /status (called on each request, from the admin thread).
  void SetStatusProvider(std::function<nlohmann::json()> provider);

  // Called, in order, after readiness goes off on shutdown: end streams, stop producers.
  void OnDrain(std::function<void()> hook);
  // Called after the gRPC server has shut down: flush pending writes, close databases.
  void OnStop(std::function<void()> hook);

  // Binds both ports and starts serving. FAILED_PRECONDITION / UNAVAILABLE naming the address if
  // a port cannot be bound.
  absl::Status Start();
  // Start() (unless started), then blocks until SIGTERM/SIGINT or Shutdown(), then drains and
  // stops. Returns the process exit code (0 on a clean drain, 1 if Start failed).
  int Run();
  // Asks Run() to return (thread-safe; for tests and fatal errors).
  void RequestShutdown();
  // Drains and stops now (what Run does after the signal). Idempotent.
  void Shutdown();

  int grpc_port() const { return grpc_port_; }
  int admin_port() const { return admin_port_; }
  const std::string& service() const { return options_.service; }
  bool serving() const { return serving_.load(); }
  grpc::Server* grpc_server() { return server_.get(); }

 private:
  void UpdateHealth();
  nlohmann::json StatusJson();

  ServerOptions options_;
  std::vector<std::pair<grpc::Service*, std::string>> services_;
  std::unique_ptr<grpc::Server> server_;
  class AdminHttp;
  std::unique_ptr<AdminHttp> admin_;
  int grpc_port_ = 0;
  int admin_port_ = 0;
  std::atomic<bool> started_{false};
  std::atomic<bool> draining_{false};
  std::atomic<bool> serving_{false};
  std::atomic<bool> shutdown_requested_{false};
  std::once_flag shutdown_once_;
  int64_t start_unix_ns_ = 0;

  std::mutex mu_;
  struct Dependency {
    bool required = false;
    bool up = false;
    int64_t since_unix_ns = 0;
  };
  std::map<std::string, Dependency> dependencies_ ABSL_GUARDED_BY(mu_);
  std::function<nlohmann::json()> status_provider_ ABSL_GUARDED_BY(mu_);
  std::vector<std::function<void()>> drain_hooks_;
  std::vector<std::function<void()>> stop_hooks_;
};

}  // namespace tickmesh::runtime
