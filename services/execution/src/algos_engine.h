// Wiring of the AlgoRunner (algos_runner.h) to an ExecutionEngine: hooks that send every child
// through the engine's Submit path (and the venue's rate-limit admission queue when there is
// one), cancel children through the engine, and the lookup ExecutionGrpc uses to find the
// runner serving an engine.
//
// Example (service wiring):
//   AlgoRunner algos(AlgoRunner::Options{}, EngineAlgoHooks(&engine, admission, book_source));
//   engine.SetEventObserver([&](const auto& batch) { algos.OnOrderEvents(batch); });
//   grpc_service.SetAlgoRunner(&algos);  // routes TWAP/ICEBERG/LIQUIDITY_AWARE
//   algos.Start();
//   ...
//   grpc_service.SetAlgoRunner(nullptr); algos.Stop();
//   admission->Stop();   // answers children still waiting; before `algos` is destroyed
#pragma once

#include "algos_runner.h"
#include "execution_engine.h"
#include "rate_limit.h"

namespace tickmesh::execution {

// Validates a TWAP / ICEBERG / LIQUIDITY_AWARE parent: everything ExecutionEngine::ValidateRequest
// checks on an immediate order (ids, symbol, side, type, price, time in force, strategy) plus
// ValidateAlgoFields. INVALID_ARGUMENT naming the field.
absl::Status ValidateAlgoParent(const tickmesh::v1::OrderRequest& request);

// Hooks over `engine` (must outlive the runner): `submit` runs ExecutionEngine::Submit — through
// `admission` (may be null) as a RequestClass::kOrder of the child's venue, so a refused
// admission answers the child RESOURCE_EXHAUSTED; `cancel` runs ExecutionEngine::Cancel by
// client_order_id (cancels are not rate-limited here: they reduce risk and a parent cancel has
// already been admitted); `book` is `book_source` as given (may be empty: LIQUIDITY_AWARE
// parents then never find liquidity and expire). Clocks are runtime::MonotonicNs / NowUnixNs.
// `parent_event` publishes each parent event through ExecutionEngine::PublishParentEvents (engine
// seq, outbox → persistence, StreamOrderEvents subscribers) and counts
// tickmesh_execution_algo_parents_total{algo,status} (acked when accepted, then the final
// status); `submit` counts tickmesh_execution_algo_children_total{result=accepted|refused}.
AlgoRunner::Hooks EngineAlgoHooks(ExecutionEngine* engine, AdmissionQueue* admission,
                                  decltype(AlgoRunner::Hooks::book) book_source);

// ListOrders over the engine's orders and the runner's parents (`algos` may be null: the
// engine's answer as is). Both are listed newest first by created_unix_ns, filtered alike
// (venue, symbol, statuses) and paged together: next_page_token "m:<engine>:<parents>" carries
// where each source stopped. Errors as ExecutionEngine::ListOrders, plus INVALID_ARGUMENT for a
// page token that is not from a previous page.
absl::StatusOr<tickmesh::v1::ListOrdersResponse> ListOrdersWithParents(
    const ExecutionEngine& engine, const AlgoRunner* algos,
    const tickmesh::v1::ListOrdersRequest& request);

}  // namespace tickmesh::execution
