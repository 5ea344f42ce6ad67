#include "tickmesh/runtime/server.h"

#include <signal.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <httplib.h>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "interceptor.h"
#include "tickmesh/runtime/client.h"
#include "tickmesh/runtime/clock.h"
#include "tickmesh/runtime/config.h"
#include "tickmesh/runtime/log.h"
#include "tickmesh/runtime/metrics.h"

ABSL_DECLARE_FLAG(std::string, grpc_address);
ABSL_DECLARE_FLAG(std::string, admin_address);
ABSL_DECLARE_FLAG(int, drain_timeout_ms);

namespace tickmesh::runtime {

// Admin HTTP server on its own small thread pool; never touches gRPC threads.
class ServiceHost::AdminHttp {
 public:
  explicit AdminHttp(ServiceHost* host) : host_(host) {
    server_.new_task_queue = [] { return new httplib::ThreadPool(2); };
    // Stop() waits for open keep-alive connections to time out: keep that short (scrapers
    // reconnect cheaply).
    server_.set_keep_alive_timeout(1);
    // httplib's default also sets SO_REUSEPORT, which would let a second process bind the same
    // port silently; SO_REUSEADDR alone allows quick restarts but refuses a live port.
    server_.set_socket_options([](socket_t sock) {
      int yes = 1;
      setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    });
    server_.Get("/metrics", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(SerializeMetrics(), "text/plain; version=0.0.4; charset=utf-8");
    });
    server_.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("ok\n", "text/plain");
    });
    server_.Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
      nlohmann::json status = host_->StatusJson();
      bool ready = status.value("ready", false);
      res.status = ready ? 200 : 503;
      res.set_content(ready ? "ready\n" : absl::StrCat("not ready: ", status.value("reason", ""), "\n"),
                      "text/plain");
    });
    server_.Get("/status", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(host_->StatusJson().dump(2) + "\n", "application/json");
    });
  }

  // Returns the bound port or -1.
  int Bind(const std::string& address) {
    size_t colon = address.rfind(':');
    std::string host = address.substr(0, colon);
    int port = std::stoi(address.substr(colon + 1));
    if (port == 0) return server_.bind_to_any_port(host);
    return server_.bind_to_port(host, port) ? port : -1;
  }

  void Serve() {
    thread_ = std::thread([this] {
      server_.listen_after_bind();
      listen_returned_ = true;
    });
    // httplib's stop() does nothing until the listen loop has started; without this wait a
    // Stop() right after Serve() (a short-lived host under CPU load) left the thread blocked in
    // accept() for ever.
    while (!server_.is_running() && !listen_returned_) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }

  void Stop() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

 private:
  ServiceHost* host_;
  httplib::Server server_;
  std::thread thread_;
  std::atomic<bool> listen_returned_{false};
};

ServerOptions ServiceHost::OptionsFromFlags(std::string service, int default_grpc_port,
                                            int default_admin_port) {
  ServerOptions options;
  options.service = std::move(service);
  std::string grpc = absl::GetFlag(FLAGS_grpc_address);
  std::string admin = absl::GetFlag(FLAGS_admin_address);
  options.grpc_address = grpc.empty() ? absl::StrCat("0.0.0.0:", default_grpc_port) : grpc;
  options.admin_address = admin.empty() ? absl::StrCat("0.0.0.0:", default_admin_port) : admin;
  options.drain_timeout = absl::Milliseconds(absl::GetFlag(FLAGS_drain_timeout_ms));
  // Fail before the service does any work (connecting to peers, opening databases).
  for (const auto& [flag, address] : {std::pair{"--grpc_address", options.grpc_address},
                                      std::pair{"--admin_address", options.admin_address}}) {
    if (absl::Status s = ValidateHostPort(flag, address); !s.ok()) {
      std::fprintf(stderr, "tickmesh-%s: %s\n", options.service.c_str(),
                   std::string(s.message()).c_str());
      std::exit(2);
    }
  }
  return options;
}

ServiceHost::ServiceHost(ServerOptions options) : options_(std::move(options)) {}

ServiceHost::~ServiceHost() {
  if (started_.load()) Shutdown();
}

void ServiceHost::AddService(grpc::Service* service, std::string full_name) {
  services_.emplace_back(service, std::move(full_name));
}

void ServiceHost::AddDependency(const std::string& name, bool required) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    dependencies_[name] = Dependency{required, false, NowUnixNs()};
  }
  UpdateHealth();
}

void ServiceHost::SetDependencyUp(const std::string& name, bool up) {
  bool changed = false;
  bool required = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = dependencies_.find(name);
    if (it == dependencies_.end()) {
      it = dependencies_.emplace(name, Dependency{false, !up, NowUnixNs()}).first;
    }
    if (it->second.up != up) {
      it->second.up = up;
      it->second.since_unix_ns = NowUnixNs();
      changed = true;
    }
    required = it->second.required;
  }
  if (!changed) return;
  if (up) {
    LogInfo("dependency up", {{"dependency", name}});
  } else {
    LogWarn(required ? "required dependency down: not serving" : "dependency down: degraded",
            {{"dependency", name}});
  }
  UpdateHealth();
}

void ServiceHost::SetStatusProvider(std::function<nlohmann::json()> provider) {
  std::lock_guard<std::mutex> lock(mu_);
  status_provider_ = std::move(provider);
}

void ServiceHost::OnDrain(std::function<void()> hook) { drain_hooks_.push_back(std::move(hook)); }
void ServiceHost::OnStop(std::function<void()> hook) { stop_hooks_.push_back(std::move(hook)); }

absl::Status ServiceHost::Start() {
  if (started_.load()) return absl::FailedPreconditionError("already started");
  if (auto s = ValidateHostPort("--grpc_address", options_.grpc_address); !s.ok()) return s;
  if (auto s = ValidateHostPort("--admin_address", options_.admin_address); !s.ok()) return s;

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options_.grpc_address, grpc::InsecureServerCredentials(), &grpc_port_);
  for (auto& [service, name] : services_) builder.RegisterService(service);
  builder.SetMaxReceiveMessageSize(options_.max_message_bytes);
  builder.SetMaxSendMessageSize(options_.max_message_bytes);
  // Keepalive: ping idle connections every 30 s, drop them if no answer in 10 s; accept client
  // pings as often as every 10 s, also without calls in flight (clients ping every 30 s).
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  // Refuse a port another process already listens on (gRPC sets SO_REUSEPORT by default).
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(std::make_unique<internal::MetricsInterceptorFactory>(options_.service));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  server_ = builder.BuildAndStart();
  if (!server_ || grpc_port_ == 0) {
    server_.reset();
    return absl::UnavailableError(
        absl::StrCat("cannot listen on --grpc_address ", options_.grpc_address,
                     " (in use or not a local address)"));
  }

  admin_ = std::make_unique<AdminHttp>(this);
  admin_port_ = admin_->Bind(options_.admin_address);
  if (admin_port_ <= 0) {
    server_->Shutdown();
    server_.reset();
    admin_.reset();
    return absl::UnavailableError(
        absl::StrCat("cannot listen on --admin_address ", options_.admin_address,
                     " (in use or not a local address)"));
  }
  admin_->Serve();
  RegisterProcessMetrics();
  start_unix_ns_ = NowUnixNs();
  started_.store(true);
  serving_.store(true);
  UpdateHealth();
  LogInfo("serving", {{"grpc_port", grpc_port_}, {"admin_port", admin_port_}});
  return absl::OkStatus();
}

int ServiceHost::Run() {
  if (!started_.load()) {
    if (absl::Status s = Start(); !s.ok()) {
      LogError("start-up failed", {{"error", std::string(s.message())}});
      return 1;
    }
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  int sig = 0;
  while (!shutdown_requested_.load()) {
    timespec timeout{0, 100 * 1000 * 1000};
    sig = sigtimedwait(&set, nullptr, &timeout);
    if (sig > 0) break;
  }
  LogInfo("shutting down", {{"signal", sig > 0 ? strsignal(sig) : "request"}});
  Shutdown();
  LogInfo("stopped");
  return 0;
}

void ServiceHost::RequestShutdown() { shutdown_requested_.store(true); }

void ServiceHost::Shutdown() {
  std::call_once(shutdown_once_, [this] {
    if (!started_.load()) return;
    draining_.store(true);
    serving_.store(false);
    UpdateHealth();
    for (auto& hook : drain_hooks_) hook();
    server_->Shutdown(DeadlineIn(options_.drain_timeout));
    server_->Wait();
    for (auto& hook : stop_hooks_) hook();
    admin_->Stop();
  });
}

void ServiceHost::UpdateHealth() {
  if (!server_) return;
  bool ok = serving_.load() && !draining_.load();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [name, dep] : dependencies_) {
      if (dep.required && !dep.up) ok = false;
    }
  }
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  if (health == nullptr) return;
  health->SetServingStatus(ok);
  for (auto& [service, name] : services_) health->SetServingStatus(name, ok);
}

nlohmann::json ServiceHost::StatusJson() {
  nlohmann::json j;
  j["service"] = options_.service;
  j["grpc_port"] = grpc_port_;
  j["admin_port"] = admin_port_;
  j["uptime_s"] = start_unix_ns_ ? double(NowUnixNs() - start_unix_ns_) / 1e9 : 0.0;
  j["draining"] = draining_.load();
  bool ready = serving_.load() && !draining_.load();
  std::string reason = draining_.load() ? "draining" : (serving_.load() ? "" : "not started");
  bool degraded = false;
  nlohmann::json deps = nlohmann::json::object();
  std::function<nlohmann::json()> provider;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [name, dep] : dependencies_) {
      deps[name] = {{"required", dep.required}, {"up", dep.up},
                    {"since_unix_ns", dep.since_unix_ns}};
      if (!dep.up && dep.required) {
        ready = false;
        if (reason.empty()) reason = absl::StrCat("required dependency ", name, " is down");
      }
      if (!dep.up && !dep.required) degraded = true;
    }
    provider = status_provider_;
  }
  j["ready"] = ready;
  j["reason"] = reason;
  j["degraded"] = degraded;
  j["dependencies"] = deps;
  if (provider) j["details"] = provider();
  return j;
}

}  // namespace tickmesh::runtime
