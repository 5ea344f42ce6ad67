#include "reconcile.h"

#include <algorithm>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "tickmesh/runtime/client.h"
#include "tickmesh/runtime/clock.h"
#include "tickmesh/runtime/log.h"
#include "tickmesh/v1/persistence.grpc.pb.h"

namespace tickmesh::execution {
namespace {

namespace v1 = tickmesh::v1;

bool Retryable(const grpc::Status& s) {
  return s.error_code() == grpc::StatusCode::UNAVAILABLE ||
         s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
}

absl::Status ToAbsl(const grpc::Status& s, const char* what) {
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                      absl::StrCat("persistence ", what, ": ", s.error_message()));
}

// Calls `call(ctx)` until it succeeds, fails for good, or `deadline` passes.
template <typename Call>
absl::Status WithRetry(absl::Time deadline, const char* what, Call call) {
  tickmesh::runtime::Backoff backoff(absl::Milliseconds(50), absl::Seconds(1));
  while (true) {
    grpc::ClientContext ctx;
    const absl::Time attempt_deadline = std::min(deadline, absl::Now() + absl::Seconds(10));
    ctx.set_deadline(absl::ToChronoTime(attempt_deadline));
    const grpc::Status s = call(&ctx);
    if (s.ok()) return absl::OkStatus();
    if (!Retryable(s)) return ToAbsl(s, what);
    const absl::Duration wait = backoff.Next();
    if (absl::Now() + wait >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("persistence ", what, " not answered in time: ", s.error_message()));
    }
    tickmesh::runtime::WarnOnce("execution-reconcile-retry", "persistence not ready, retrying",
                                {{"query", what}, {"error", s.error_message()}});
    std::this_thread::sleep_for(absl::ToChronoNanoseconds(wait));
  }
}

}  // namespace

bool IsAlgoParent(const v1::Order& o) {
  return o.algo() == v1::EXEC_ALGO_TWAP || o.algo() == v1::EXEC_ALGO_ICEBERG ||
         o.algo() == v1::EXEC_ALGO_LIQUIDITY_AWARE;
}

absl::StatusOr<PersistedState> LoadPersistedState(const ReconcileOptions& options) {
  const absl::Time deadline = absl::Now() + options.timeout;
  // One channel that retries its connection every <= 250 ms (the default backoff would leave a
  // channel whose first connects were refused — persistence still starting — idle for seconds).
  tickmesh::runtime::ChannelOptions channel_options;
  channel_options.max_reconnect_backoff = absl::Milliseconds(250);
  channel_options.max_receive_message_bytes = 64 << 20;
  auto stub = v1::PersistenceService::NewStub(
      tickmesh::runtime::MakeChannel(options.persistence_address, channel_options));
  PersistedState state;

  v1::QueryOrdersRequest oreq;
  oreq.add_statuses(v1::ORDER_STATUS_NEW);
  oreq.add_statuses(v1::ORDER_STATUS_ACKED);
  oreq.add_statuses(v1::ORDER_STATUS_PARTIALLY_FILLED);
  oreq.mutable_page()->set_limit(options.page_limit);
  while (true) {
    v1::QueryOrdersResponse resp;
    absl::Status s = WithRetry(deadline, "QueryOrders", [&](grpc::ClientContext* ctx) {
      resp.Clear();
      return stub->QueryOrders(ctx, oreq, &resp);
    });
    if (!s.ok()) return s;
    for (auto& o : *resp.mutable_orders()) {
      if (state.open_orders.size() >= options.max_open_orders) {
        return absl::FailedPreconditionError(
            absl::StrCat("persistence holds more than --max_open_orders=", options.max_open_orders,
                         " open orders; raise the flag to restart with all of them"));
      }
      if (IsAlgoParent(o)) {
        state.algo_parents.push_back(std::move(o));
      } else {
        state.open_orders.push_back(std::move(o));
      }
    }
    if (resp.next_page_token().empty() || resp.orders_size() == 0) break;
    if (resp.next_page_token() == oreq.page().page_token()) {
      return absl::InternalError("persistence QueryOrders returned the same page token twice");
    }
    oreq.mutable_page()->set_page_token(resp.next_page_token());
  }

  // Children of open parents: per (venue, symbol), the orders created since the earliest parent
  // (less a second of clock slack), paged, keeping those naming an open parent.
  std::map<std::pair<std::string, std::string>, int64_t> instruments;  // -> earliest parent
  std::map<std::string, std::pair<std::string, std::string>> parent_instrument;
  for (const v1::Order& p : state.algo_parents) {
    auto key = std::make_pair(p.venue(), p.symbol());
    auto [it, fresh] = instruments.emplace(key, p.created_unix_ns());
    if (!fresh) it->second = std::min(it->second, p.created_unix_ns());
    parent_instrument[p.order_id()] = key;
  }
  for (const auto& [key, since] : instruments) {
    v1::QueryOrdersRequest creq;
    creq.set_venue(key.first);
    creq.set_symbol(key.second);
    creq.mutable_created()->set_from_unix_ns(std::max<int64_t>(since - 1'000'000'000, 1));
    creq.mutable_page()->set_limit(options.page_limit);
    size_t scanned = 0;
    bool complete = true;
    while (true) {
      v1::QueryOrdersResponse resp;
      absl::Status s = WithRetry(deadline, "QueryOrders(children)", [&](grpc::ClientContext* ctx) {
        resp.Clear();
        return stub->QueryOrders(ctx, creq, &resp);
      });
      if (!s.ok()) return s;
      for (auto& o : *resp.mutable_orders()) {
        auto pit = parent_instrument.find(o.parent_order_id());
        if (o.parent_order_id().empty() || pit == parent_instrument.end()) continue;
        state.algo_children[o.parent_order_id()].push_back(std::move(o));
      }
      scanned += static_cast<size_t>(resp.orders_size());
      if (resp.next_page_token().empty() || resp.orders_size() == 0) break;
      if (scanned >= options.max_child_scan) {
        complete = false;
        break;
      }
      if (resp.next_page_token() == creq.page().page_token()) {
        return absl::InternalError("persistence QueryOrders returned the same page token twice");
      }
      creq.mutable_page()->set_page_token(resp.next_page_token());
    }
    if (!complete) {
      for (const auto& [id, k] : parent_instrument) {
        if (k == key) state.algo_children_incomplete.insert(id);
      }
    }
  }

  v1::QueryPositionsResponse presp;
  if (auto s = WithRetry(deadline, "QueryPositions",
                         [&](grpc::ClientContext* ctx) {
                           presp.Clear();
                           return stub->QueryPositions(ctx, v1::QueryPositionsRequest(), &presp);
                         });
      !s.ok()) {
    return s;
  }
  state.positions.assign(presp.positions().begin(), presp.positions().end());

  v1::QueryBalancesResponse bresp;
  if (auto s = WithRetry(deadline, "QueryBalances",
                         [&](grpc::ClientContext* ctx) {
                           bresp.Clear();
                           return stub->QueryBalances(ctx, v1::QueryBalancesRequest(), &bresp);
                         });
      !s.ok()) {
    return s;
  }
  state.balances.assign(bresp.balances().begin(), bresp.balances().end());

  if (options.strategy_ledgers) {
    constexpr int64_t kHourNs = 3'600'000'000'000;
    const int64_t now =
        options.now_unix_ns != 0 ? options.now_unix_ns : tickmesh::runtime::NowUnixNs();
    const int64_t day = TradingDay(now, options.risk_day_reset_hour_utc);
    const int64_t day_start = day * 24 * kHourNs + options.risk_day_reset_hour_utc * kHourNs;
    v1::QueryStrategyPositionsRequest sreq;
    sreq.mutable_time()->set_from_unix_ns(std::max<int64_t>(day_start, 1));
    v1::QueryStrategyPositionsResponse sresp;
    absl::Status s = WithRetry(deadline, "QueryStrategyPositions", [&](grpc::ClientContext* ctx) {
      sresp.Clear();
      return stub->QueryStrategyPositions(ctx, sreq, &sresp);
    });
    if (!s.ok()) {
      state.strategy_ledgers_error = s.ToString();
    } else {
      PersistedState::StrategyLedgers& ledgers = state.strategy_ledgers.emplace();
      ledgers.trading_day = day;
      ledgers.seeds.reserve(static_cast<size_t>(sresp.positions_size()));
      for (const v1::StrategyPosition& p : sresp.positions()) {
        StrategyLedgerSeed& seed = ledgers.seeds.emplace_back();
        seed.strategy = p.strategy();
        seed.venue = p.venue();
        seed.symbol = p.symbol();
        seed.net_qty_e8 = p.net_qty_e8();
        seed.opening_qty_e8 = p.opening_qty_e8();
        seed.day_realized_pnl_e8 = p.realized_pnl_e8();
        seed.day_avg_entry_price_e8 = p.avg_entry_price_e8();
      }
    }
  }
  return state;
}

void RestoreStrategyLedgers(const PersistedState& state, ExecutionEngine* engine) {
  if (!state.strategy_ledgers) {
    if (!state.strategy_ledgers_error.empty()) {
      tickmesh::runtime::LogWarn(
          "per-strategy risk ledgers not restored: strategy positions and daily PnL start afresh",
          {{"error", state.strategy_ledgers_error}});
    }
    return;
  }
  const RiskBook::SeedSummary sum = engine->RestoreStrategyLedgers(
      state.strategy_ledgers->trading_day, state.strategy_ledgers->seeds);
  tickmesh::runtime::LogInfo("per-strategy risk ledgers restored",
                             {{"trading_day", state.strategy_ledgers->trading_day},
                              {"rows", state.strategy_ledgers->seeds.size()},
                              {"positions", sum.positions},
                              {"skipped", sum.skipped}});
}

AlgoRunner::RestoreSummary RestoreAlgoParents(const PersistedState& state,
                                              const ExecutionEngine& engine, AlgoRunner* algos) {
  // The engine's view of an order read back open (Restore may have closed it). One the engine
  // does not hold (skipped as malformed) works nowhere: it counts as cancelled.
  auto current = [&engine](const v1::Order& o) {
    if (OrderManager::IsTerminal(o.status())) return o;
    v1::OrderRef ref;
    ref.set_order_id(o.order_id());
    auto got = engine.GetOrder(ref);
    if (got.ok()) return *got;
    v1::Order gone = o;
    gone.set_status(v1::ORDER_STATUS_CANCELLED);
    return gone;
  };
  std::set<std::string> open_parents;
  std::vector<AlgoRunner::RestoredParent> parents;
  for (const v1::Order& p : state.algo_parents) {
    open_parents.insert(p.order_id());
    AlgoRunner::RestoredParent& rp = parents.emplace_back();
    rp.parent = p;
    rp.children_complete = state.algo_children_incomplete.count(p.order_id()) == 0;
    if (auto it = state.algo_children.find(p.order_id()); it != state.algo_children.end()) {
      for (const v1::Order& c : it->second) rp.children.push_back(current(c));
    }
  }
  std::vector<v1::Order> orphans;
  for (const v1::Order& o : state.open_orders) {
    if (o.parent_order_id().empty() || open_parents.count(o.parent_order_id()) != 0) continue;
    orphans.push_back(current(o));
  }
  return algos->Restore(std::move(parents), orphans);
}

}  // namespace tickmesh::execution
