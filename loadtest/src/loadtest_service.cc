#include "loadtest_service.h"

#include "absl/strings/str_cat.h"
#include "report.h"
#include "tickmesh/runtime/log.h"

namespace tickmesh::loadtest {

LoadTestServiceImpl::LoadTestServiceImpl(TickLoadConfig defaults)
    : defaults_(std::move(defaults)) {}

LoadTestServiceImpl::~LoadTestServiceImpl() { Stop(); }

void LoadTestServiceImpl::Stop() {
  stop_.store(true);
  std::thread t;
  {
    std::lock_guard<std::mutex> lock(mu_);
    t = std::move(runner_);
  }
  if (t.joinable()) t.join();
  progress_.CloseAll(grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down"));
}

grpc::ServerWriteReactor<tickmesh::v1::RunProgress>* LoadTestServiceImpl::Run(
    grpc::CallbackServerContext* ctx, const tickmesh::v1::RunRequest* req) {
  auto fail = [](grpc::StatusCode code, std::string msg) {
    auto* w = new runtime::QueuedWriter<tickmesh::v1::RunProgress>(1, nullptr);
    w->Close(grpc::Status(code, msg));
    return w;
  };
  RunInfo info;
  info.scenario = req->scenario().empty() ? "ticks" : req->scenario();
  info.mode = req->mode().empty() ? "custom" : req->mode();
  if (info.scenario != "ticks") {
    return fail(grpc::StatusCode::INVALID_ARGUMENT,
                absl::StrCat("scenario: unknown scenario '", info.scenario,
                             "' (available: ticks)"));
  }
  if (req->rate_per_s() < 0 || req->rate_per_s() > 1e6) {
    return fail(grpc::StatusCode::INVALID_ARGUMENT, "rate_per_s: must be in 0..1000000");
  }
  if (req->duration_s() > 3600) {
    return fail(grpc::StatusCode::INVALID_ARGUMENT, "duration_s: must be at most 3600");
  }
  info.config = defaults_;
  if (req->rate_per_s() > 0) info.config.rate_per_s = req->rate_per_s();
  if (req->duration_s() > 0) info.config.duration_s = req->duration_s();
  if (req->symbols_size() > 0) info.config.symbols.assign(req->symbols().begin(), req->symbols().end());

  std::lock_guard<std::mutex> lock(mu_);
  if (running_) return fail(grpc::StatusCode::FAILED_PRECONDITION, "a run is already in progress");
  if (runner_.joinable()) runner_.join();  // the previous run has finished
  running_ = true;
  info.run_id = absl::StrCat("run-", next_run_++);
  auto* writer = progress_.Add(info.run_id, 64);
  runner_ = std::thread([this, info] {
    TickLoadResult result = RunTickLoad(
        info.config,
        [&](const TickLoadProgress& p) {
          progress_.Publish([&](const std::string& run, tickmesh::v1::RunProgress* out) {
            if (run != info.run_id) return false;
            out->set_run_id(info.run_id);
            out->set_phase("running");
            out->set_elapsed_s(p.elapsed_s);
            out->set_total_s(p.total_s);
            out->set_sent(p.sent);
            out->set_errors(p.errors);
            out->set_current_rate_per_s(p.current_rate_per_s);
            return true;
          });
        },
        &stop_);
    tickmesh::v1::Report report = ToReportProto(BuildReportJson(info, result));
    progress_.Publish([&](const std::string& run, tickmesh::v1::RunProgress* out) {
      if (run != info.run_id) return false;
      out->set_run_id(info.run_id);
      out->set_phase("done");
      out->set_sent(result.ticks_sent);
      *out->mutable_report() = report;
      return true;
    });
    progress_.CloseIf([&](const std::string& run) { return run == info.run_id; },
                      grpc::Status::OK);
    std::lock_guard<std::mutex> lock(mu_);
    reports_[info.run_id] = std::move(report);
    running_ = false;
    runtime::LogInfo("run finished", {{"run_id", info.run_id}});
  });
  return writer;
}

grpc::ServerUnaryReactor* LoadTestServiceImpl::GetReport(grpc::CallbackServerContext* ctx,
                                                         const tickmesh::v1::GetReportRequest* req,
                                                         tickmesh::v1::Report* resp) {
  auto* reactor = ctx->DefaultReactor();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = reports_.find(req->run_id());
  if (req->run_id().empty()) {
    reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "run_id: required"));
  } else if (it == reports_.end()) {
    reactor->Finish(grpc::Status(grpc::StatusCode::NOT_FOUND,
                                 absl::StrCat("no finished run '", req->run_id(), "'")));
  } else {
    *resp = it->second;
    reactor->Finish(grpc::Status::OK);
  }
  return reactor;
}

}  // namespace tickmesh::loadtest
