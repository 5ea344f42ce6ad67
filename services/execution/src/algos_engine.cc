#include "algos_engine.h"

#include <memory>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
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
  hooks.parent_event = [engine](tickmesh::v1::OrderEvent ev) {
    const tickmesh::v1::Order& o = ev.order();
    const bool accepted = ev.type() == tickmesh::v1::ORDER_EVENT_TYPE_ACKED;
    const bool ended = o.status() == tickmesh::v1::ORDER_STATUS_FILLED ||
                       o.status() == tickmesh::v1::ORDER_STATUS_CANCELLED ||
                       o.status() == tickmesh::v1::ORDER_STATUS_EXPIRED;
    if (accepted || ended) {
      Metrics()
          .parents
          .Add({{"algo", Label(tickmesh::v1::ExecAlgo_Name(o.algo()), 10)},
                {"status", Label(tickmesh::v1::OrderStatus_Name(o.status()), 13)}})
          .Increment();
    }
    std::vector<tickmesh::v1::OrderEvent> events;
    events.push_back(std::move(ev));
    engine->PublishParentEvents(std::move(events));
  };
  hooks.mono_now_ns = [] { return tickmesh::runtime::MonotonicNs(); };
  hooks.unix_now_ns = [] { return tickmesh::runtime::NowUnixNs(); };
  return hooks;
}

namespace {

constexpr uint32_t kDefaultListLimit = 100;

// Where one source of a merged listing stands: from its newest order, before a bound, or done.
struct Cursor {
  bool done = false;
  uint64_t before = 0;  // 0 = from the newest
};

std::string CursorToken(const Cursor& c) {
  if (c.done) return "x";
  return absl::StrCat(c.before);
}

bool ParseCursor(absl::string_view s, Cursor* c) {
  if (s == "x") {
    c->done = true;
    return true;
  }
  return absl::SimpleAtoi(s, &c->before) && c->before != 0;
}

}  // namespace

absl::StatusOr<tickmesh::v1::ListOrdersResponse> ListOrdersWithParents(
    const ExecutionEngine& engine, const AlgoRunner* algos,
    const tickmesh::v1::ListOrdersRequest& request) {
  if (algos == nullptr) return engine.ListOrders(request);
  Cursor eng, par;
  const std::string& token = request.page().page_token();
  if (!token.empty()) {
    std::vector<absl::string_view> parts = absl::StrSplit(token, ':');
    if (parts.size() != 3 || parts[0] != "m" || !ParseCursor(parts[1], &eng) ||
        !ParseCursor(parts[2], &par)) {
      return absl::InvalidArgumentError("page.page_token is not a token from a previous page");
    }
  }
  // The engine validates the request (limit, statuses) and pages its own orders.
  tickmesh::v1::ListOrdersRequest ereq = request;
  ereq.mutable_page()->set_page_token(eng.before == 0 ? "" : absl::StrCat(eng.before));
  if (eng.done && request.page().limit() <= 10'000) ereq.mutable_page()->set_limit(1);
  auto listed = engine.ListOrders(ereq);  // also when done: it validates the request
  if (!listed.ok()) return listed.status();
  tickmesh::v1::ListOrdersResponse eresp;
  if (!eng.done) eresp = std::move(*listed);
  const size_t limit = request.page().limit() == 0 ? kDefaultListLimit : request.page().limit();
  std::vector<tickmesh::v1::Order> parents;
  if (!par.done) {
    AlgoRunner::ParentQuery q;
    q.venue = request.venue();
    q.symbol = request.symbol();
    for (int s : request.statuses())
      q.statuses.push_back(static_cast<tickmesh::v1::OrderStatus>(s));
    q.before = par.before;
    q.limit = limit;
    parents = algos->List(q);
  }
  // Merge newest first; ties by order id so pages are stable.
  tickmesh::v1::ListOrdersResponse resp;
  size_t ei = 0, pi = 0;
  uint64_t last_parent = 0;  // number of the last parent taken
  auto newer = [](const tickmesh::v1::Order& a, const tickmesh::v1::Order& b) {
    if (a.created_unix_ns() != b.created_unix_ns())
      return a.created_unix_ns() > b.created_unix_ns();
    return a.order_id() > b.order_id();
  };
  while (static_cast<size_t>(resp.orders_size()) < limit &&
         (ei < static_cast<size_t>(eresp.orders_size()) || pi < parents.size())) {
    const bool take_parent =
        ei == static_cast<size_t>(eresp.orders_size()) ||
        (pi < parents.size() && newer(parents[pi], eresp.orders(static_cast<int>(ei))));
    if (take_parent) {
      (void)absl::SimpleAtoi(absl::string_view(parents[pi].order_id()).substr(2), &last_parent);
      *resp.add_orders() = std::move(parents[pi++]);
    } else {
      *resp.add_orders() = eresp.orders(static_cast<int>(ei++));
    }
  }
  // Engine: the next page starts at the first order not taken (its tokens are "number + 1").
  if (!eng.done) {
    if (ei < static_cast<size_t>(eresp.orders_size())) {
      eng.before = OrderNumber(eresp.orders(static_cast<int>(ei)).order_id()) + 1;
    } else if (!eresp.next_page_token().empty()) {
      if (!absl::SimpleAtoi(eresp.next_page_token(), &eng.before)) eng.done = true;
    } else {
      eng.done = true;
    }
  }
  if (!par.done) {
    uint64_t n = 0;
    if (pi < parents.size()) {
      if (absl::SimpleAtoi(absl::string_view(parents[pi].order_id()).substr(2), &n)) {
        par.before = n + 1;
      }
    } else if (parents.size() < limit) {
      par.done = true;
    } else if (last_parent != 0) {
      par.before = last_parent;
    } else {
      par.done = true;
    }
  }
  if (!eng.done || !par.done) {
    resp.set_next_page_token(absl::StrCat("m:", CursorToken(eng), ":", CursorToken(par)));
  }
  return resp;
}

}  // namespace tickmesh::execution
