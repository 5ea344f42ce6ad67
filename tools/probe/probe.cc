// tickmesh-probe: checks a gRPC endpoint from outside, like an orchestrator or an operator would.
//   tickmesh-probe health <host:port> [service] [--timeout_ms N]  exit 0 iff SERVING
//   tickmesh-probe wait   <host:port> [service] [--timeout_ms N]  polls until SERVING (exit 0) or
//                                                                 the timeout (exit 1)
//   tickmesh-probe services <host:port>                           lists services via reflection
// Exit codes: 0 ok, 1 not serving / unreachable, 2 usage.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "grpcpp/grpcpp.h"

namespace {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

int Usage() {
  std::fprintf(stderr,
               "usage: tickmesh-probe health|wait <host:port> [service] [--timeout_ms N]\n"
               "       tickmesh-probe services <host:port>\n");
  return 2;
}

// One health check; returns the status name ("SERVING", ...) or the RPC error.
std::string Check(grpc::health::v1::Health::Stub& stub, const std::string& service,
                  int timeout_ms) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms));
  HealthCheckRequest req;
  req.set_service(service);
  HealthCheckResponse resp;
  grpc::Status st = stub.Check(&ctx, req, &resp);
  if (!st.ok()) return "error: " + st.error_message();
  return HealthCheckResponse::ServingStatus_Name(resp.status());
}

int Services(const std::shared_ptr<grpc::Channel>& channel, int timeout_ms) {
  auto stub = grpc::reflection::v1alpha::ServerReflection::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms));
  auto stream = stub->ServerReflectionInfo(&ctx);
  grpc::reflection::v1alpha::ServerReflectionRequest req;
  req.set_list_services("*");
  grpc::reflection::v1alpha::ServerReflectionResponse resp;
  if (!stream->Write(req) || !stream->WritesDone() || !stream->Read(&resp)) {
    std::fprintf(stderr, "reflection failed: %s\n", stream->Finish().error_message().c_str());
    return 1;
  }
  for (const auto& s : resp.list_services_response().service()) std::printf("%s\n", s.name().c_str());
  stream->Finish();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args;
  int timeout_ms = 2000;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--timeout_ms") == 0 && i + 1 < argc) {
      timeout_ms = std::atoi(argv[++i]);
      if (timeout_ms <= 0) return Usage();
    } else {
      args.emplace_back(argv[i]);
    }
  }
  if (args.size() < 2) return Usage();
  const std::string& cmd = args[0];
  auto channel = grpc::CreateChannel(args[1], grpc::InsecureChannelCredentials());
  std::string service = args.size() > 2 ? args[2] : "";
  if (cmd == "services") return Services(channel, timeout_ms);
  auto stub = grpc::health::v1::Health::NewStub(channel);
  if (cmd == "health") {
    std::string status = Check(*stub, service, timeout_ms);
    std::printf("%s\n", status.c_str());
    return status == "SERVING" ? 0 : 1;
  }
  if (cmd == "wait") {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    std::string status;
    while (std::chrono::steady_clock::now() < deadline) {
      status = Check(*stub, service, 500);
      if (status == "SERVING") {
        std::printf("SERVING\n");
        return 0;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    std::printf("%s\n", status.c_str());
    return 1;
  }
  return Usage();
}
