#include "loadtest_service.h"

#include "absl/strings/str_cat.h"
#include "report.h"
#include "scenario.h"
#include "tickmesh/runtime/log.h"

namespace tickmesh::loadtest {

LoadTestServiceImpl::LoadTestServiceImpl(Targets targets, RunOptions options)
    : targets_(std::move(targets)), options_(std::move(options)) {}

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
  const std::string mode = req->mode().empty() ? "quick" : req->mode();
  absl::StatusOr<ScenarioSpec> spec;
  if (mode == "custom" || !req->config_yaml().empty()) {
    if (req->config_yaml().empty()) {
      return fail(grpc::StatusCode::INVALID_ARGUMENT, "config_yaml: required with mode custom");
    }
    spec = ParseScenarioYaml(req->config_yaml());
    if (spec.ok() && !req->scenario().empty() && req->scenario() != "custom") {
      spec->name = req->scenario();
    }
  } else {
    spec = BuiltinScenario(req->scenario().empty() ? "sustained" : req->scenario(), mode);
  }
  if (!spec.ok()) {
    return fail(grpc::StatusCode::INVALID_ARGUMENT,
                absl::StrCat(mode == "custom" ? "config_yaml: " : "", spec.status().message()));
  }
  spec = ApplyOverrides(*std::move(spec), req->rate_per_s(), req->duration_s(),
                        {req->symbols().begin(), req->symbols().end()});
  if (!spec.ok()) {
    return fail(grpc::StatusCode::INVALID_ARGUMENT, std::string(spec.status().message()));
  }
  RunInfo info;
  info.scenario = spec->name;
  info.mode = spec->mode;
  info.config = ScenarioToJson(*spec);
  for (const std::string& text : spec->slos) {
    Slo slo;
    std::string error;
    ParseSlo(text, &slo, &error);  // validated with the scenario
    info.slos.push_back(slo);
  }

  std::lock_guard<std::mutex> lock(mu_);
  if (running_) return fail(grpc::StatusCode::FAILED_PRECONDITION, "a run is already in progress");
  if (runner_.joinable()) runner_.join();  // the previous run has finished
  running_ = true;
  info.run_id = absl::StrCat("run-", next_run_++);
  auto* writer = progress_.Add(info.run_id, 64);
  runner_ = std::thread([this, info, spec = *std::move(spec)] {
    RunOptions options = options_;
    options.stop = &stop_;
    RunResult result = RunScenario(spec, targets_, options, [&](const RunProgressInfo& p) {
      progress_.Publish([&](const std::string& run, tickmesh::v1::RunProgress* out) {
        if (run != info.run_id) return false;
        out->set_run_id(info.run_id);
        out->set_phase(p.phase);
        out->set_elapsed_s(p.elapsed_s);
        out->set_total_s(p.total_s);
        out->set_sent(p.sent);
        out->set_errors(p.errors);
        out->set_current_rate_per_s(p.actual_per_s);
        return true;
      });
    });
    tickmesh::v1::Report report = ToReportProto(BuildReportJson(info, result));
    const uint64_t sent = result.counters.count("sent") ? result.counters.at("sent") : 0;
    progress_.Publish([&](const std::string& run, tickmesh::v1::RunProgress* out) {
      if (run != info.run_id) return false;
      out->set_run_id(info.run_id);
      out->set_phase("done");
      out->set_sent(sent);
      *out->mutable_report() = report;
      return true;
    });
    progress_.CloseIf([&](const std::string& run) { return run == info.run_id; }, grpc::Status::OK);
    std::lock_guard<std::mutex> lock(mu_);
    reports_[info.run_id] = std::move(report);
    report_order_.push_back(info.run_id);
    while (report_order_.size() > 100) {
      reports_.erase(report_order_.front());
      report_order_.pop_front();
    }
    running_ = false;
    runtime::LogInfo("run finished", {{"run_id", info.run_id}, {"scenario", info.scenario}});
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
