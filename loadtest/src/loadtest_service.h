// LoadTestService over gRPC (`tickmesh-loadtest serve`): runs one scenario at a time on its own
// thread, streams progress about once a second (the last message carries the report), and keeps
// finished reports for GetReport (the most recent 100).
#pragma once

#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "drivers.h"
#include "runner.h"
#include "tickmesh/runtime/stream.h"
#include "tickmesh/v1/loadtest.grpc.pb.h"

namespace tickmesh::loadtest {

class LoadTestServiceImpl final : public tickmesh::v1::LoadTestService::CallbackService {
 public:
  // `targets` is where the mesh is; `options` the fault control command.
  LoadTestServiceImpl(Targets targets, RunOptions options);
  ~LoadTestServiceImpl() override;

  // Run: `scenario` is a built-in name (default "sustained") run in `mode` (default "quick"), or
  // mode "custom" with `config_yaml`. INVALID_ARGUMENT naming the field for an unknown scenario,
  // a bad mode, bad YAML or out-of-range overrides; FAILED_PRECONDITION while a run is going on.
  grpc::ServerWriteReactor<tickmesh::v1::RunProgress>* Run(
      grpc::CallbackServerContext* ctx, const tickmesh::v1::RunRequest* req) override;
  grpc::ServerUnaryReactor* GetReport(grpc::CallbackServerContext* ctx,
                                      const tickmesh::v1::GetReportRequest* req,
                                      tickmesh::v1::Report* resp) override;

  // Stops a run in progress (drain hook) and waits for its thread.
  void Stop();

 private:
  Targets targets_;
  RunOptions options_;
  runtime::FanOut<tickmesh::v1::RunProgress, std::string> progress_;
  std::mutex mu_;
  bool running_ = false;
  uint64_t next_run_ = 1;
  std::map<std::string, tickmesh::v1::Report> reports_;
  std::deque<std::string> report_order_;
  std::atomic<bool> stop_{false};
  std::thread runner_;
};

}  // namespace tickmesh::loadtest
