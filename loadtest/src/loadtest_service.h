// LoadTestService over gRPC (`tickmesh-loadtest serve`): runs one scenario at a time on its own
// thread, streams progress about once a second, and keeps finished reports for GetReport.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "tick_load.h"
#include "tickmesh/runtime/stream.h"
#include "tickmesh/v1/loadtest.grpc.pb.h"

namespace tickmesh::loadtest {

class LoadTestServiceImpl final : public tickmesh::v1::LoadTestService::CallbackService {
 public:
  // `defaults` supplies the target addresses and anything a RunRequest leaves at 0.
  explicit LoadTestServiceImpl(TickLoadConfig defaults);
  ~LoadTestServiceImpl() override;

  grpc::ServerWriteReactor<tickmesh::v1::RunProgress>* Run(
      grpc::CallbackServerContext* ctx, const tickmesh::v1::RunRequest* req) override;
  grpc::ServerUnaryReactor* GetReport(grpc::CallbackServerContext* ctx,
                                      const tickmesh::v1::GetReportRequest* req,
                                      tickmesh::v1::Report* resp) override;

  // Stops a run in progress (drain hook) and waits for its thread.
  void Stop();

 private:
  TickLoadConfig defaults_;
  runtime::FanOut<tickmesh::v1::RunProgress, std::string> progress_;
  std::mutex mu_;
  bool running_ = false;
  uint64_t next_run_ = 1;
  std::map<std::string, tickmesh::v1::Report> reports_;
  std::atomic<bool> stop_{false};
  std::thread runner_;
};

}  // namespace tickmesh::loadtest
