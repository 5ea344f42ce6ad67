#include "algos_engine.h"

#include <memory>
#include <utility>

#include "absl/strings/ascii.h"
#include "algos.h"
#include "tickmesh/runtime/clock.h"
#include "tickmesh/runtime/metrics.h"

namespace tickmesh::execution {
namespace {

// "EXEC_ALGO_TWAP" -> "twap", "ORDER_STATUS_FILLED" -> "filled" (metric labels).
std::string Label(const std::string& name, size_t prefix) {
  return absl::AsciiStrToLower(name.size() > prefix ? name.substr(prefix) : name);
}

struct AlgoMetrics {
  prometheus::Family<prometheus::Counter>& parents = tickmesh::runtime::CounterFamily(
      tickmesh::runtime::MetricPrefix("execution") + "algo_parents_total",
      "Algo parent orders accepted and ended, by algo and status");
  prometheus::Family<prometheus::Counter>& children = tickmesh::runtime::CounterFamily(
      tickmesh::runtime::MetricPrefix("execution") + "algo_children_total",
      "Child orders of algo parents, by result (accepted or refused by the engine)");
};

AlgoMetrics& Metrics() {
  static auto* m = new AlgoMetrics();
  return *m;
}

}  // namespace

absl::Status ValidateAlgoParent(const tickmesh::v1::OrderRequest& request) {
  tickmesh::v1::OrderRequest base = request;
  base.set_algo(tickmesh::v1::EXEC_ALGO_IMMEDIATE);
  base.clear_algo_duration_ms();
  base.clear_display_qty_e8();
  base.clear_max_impact_bps();
  if (auto s = ExecutionEngine::ValidateRequest(base); !s.ok()) return s;
  return ValidateAlgoFields(request);
}

AlgoRunner::Hooks EngineAlgoHooks(ExecutionEngine* engine, AdmissionQueue* admission,
                                  decltype(AlgoRunner::Hooks::book) book_source) {
  AlgoRunner::Hooks hooks;
  hooks.submit = [engine, admission](tickmesh::v1::OrderRequest child,
                                     AlgoRunner::Hooks::Done done) {
    const int64_t arrival = tickmesh::runtime::MonotonicNs();
    done = [inner = std::move(done)](absl::StatusOr<tickmesh::v1::SubmitOrderResponse> result) {
      Metrics().children.Add({{"result", result.ok() ? "accepted" : "refused"}}).Increment();
      inner(std::move(result));
    };
    if (admission == nullptr) {
      done(engine->Submit(child, arrival));
      return;
    }
    const std::string venue = child.venue();
    // `done` is needed by exactly one of the two callbacks; share it.
    auto shared = std::make_shared<AlgoRunner::Hooks::Done>(std::move(done));
    admission->Submit(
        venue, RequestClass::kOrder,
        [engine, shared, child = std::move(child), arrival] {
          (*shared)(engine->Submit(child, arrival));
        },
        [shared](absl::Status s) { (*shared)(std::move(s)); });
  };
  hooks.cancel = [engine](const std::string& client_order_id) {
    tickmesh::v1::OrderRef ref;
    ref.set_client_order_id(client_order_id);
    return engine->Cancel(ref).status();
  };
  hooks.book = std::move(book_source);
  hooks.parent_event = [](tickmesh::v1::OrderEvent ev) {
    const tickmesh::v1::Order& o = ev.order();
    const bool accepted = ev.type() == tickmesh::v1::ORDER_EVENT_TYPE_ACKED;
    const bool ended = o.status() == tickmesh::v1::ORDER_STATUS_FILLED ||
                       o.status() == tickmesh::v1::ORDER_STATUS_CANCELLED ||
                       o.status() == tickmesh::v1::ORDER_STATUS_EXPIRED;
    if (!accepted && !ended) return;
    Metrics()
        .parents
        .Add({{"algo", Label(tickmesh::v1::ExecAlgo_Name(o.algo()), 10)},
              {"status", Label(tickmesh::v1::OrderStatus_Name(o.status()), 13)}})
        .Increment();
  };
  hooks.mono_now_ns = [] { return tickmesh::runtime::MonotonicNs(); };
  hooks.unix_now_ns = [] { return tickmesh::runtime::NowUnixNs(); };
  return hooks;
}

}  // namespace tickmesh::execution
