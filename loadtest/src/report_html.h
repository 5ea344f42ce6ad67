// report.html: one self-contained file built from report.json (report.h) — inline CSS and inline
// SVG charts generated here, no scripts, no external fonts, images or styles — so it opens
// offline and can be attached to a CI run. Sections: executive summary (verdict, score, grade,
// headline latency), SLO table, bottlenecks and recommendations, operations, charts (latency over
// time p50/p99, percentile curve, per-hop bars, throughput target/sent/completed over time,
// memory per service over time, queue depth per service when
// any service exports a queue gauge), faults and integrity checks, breaking point, baseline deltas.
// Every string taken from the report is HTML-escaped.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"

namespace tickmesh::loadtest {

// Escapes & < > " ' for HTML text and attribute values.
std::string HtmlEscape(std::string_view text);

// The HTML document for a report.json (schema 2; missing sections are shown as "no data").
// Never throws: malformed sections are skipped.
std::string BuildReportHtml(const nlohmann::json& report);

// Writes DIR/report.json (pretty-printed) and DIR/report.html, creating DIR if needed.
// INTERNAL naming the path when a file cannot be written.
absl::Status WriteReportFiles(const std::string& dir, const nlohmann::json& report);

}  // namespace tickmesh::loadtest
