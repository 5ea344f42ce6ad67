// Load-test reports: report.json (stable schema, documented in loadtest/README.md), the
// LoadTestService Report message, SLO verdicts and the terminal summary.
#pragma once

#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "tick_load.h"
#include "tickmesh/v1/loadtest.pb.h"

namespace tickmesh::loadtest {

// One objective: operations.<operation>.latency_us.<percentile> <= max_us.
struct Slo {
  std::string operation;   // e.g. "tick_to_order"
  std::string percentile;  // "p50" | "p90" | "p99" | "p999" | "max"
  double max_us = 0;
};

// Parses "tick_to_order.p99<=1000" (µs). INVALID_ARGUMENT-style message in `error` on failure.
bool ParseSlo(const std::string& text, Slo* slo, std::string* error);

struct RunInfo {
  std::string run_id;
  std::string scenario;
  std::string mode;
  TickLoadConfig config;
  std::vector<Slo> slos;
};

// report.json. schema_version 1:
// {schema_version, run_id, scenario, mode, started_unix_ns, finished_unix_ns,
//  config{rate_per_s, duration_s, symbols[]}, totals{ticks_sent, order_events, fills, rejects},
//  operations{<name>{count, errors, rate_per_s, latency_us{p50,p90,p99,p999,max,mean}}},
//  hops[{hop, latency_us{...}}], critical_path{slowest_hop, p99_us},
//  slos[{name, objective, observed, passed}], passed, error}
nlohmann::json BuildReportJson(const RunInfo& info, const TickLoadResult& result);

// The same report as the proto message (report_json filled with the JSON text).
tickmesh::v1::Report ToReportProto(const nlohmann::json& report);

// A few human-readable lines for the terminal.
std::string SummaryText(const nlohmann::json& report);

}  // namespace tickmesh::loadtest
