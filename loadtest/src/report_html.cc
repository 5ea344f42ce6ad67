#include "report_html.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "report_util.h"

namespace tickmesh::loadtest {
namespace {

using report_util::Bool;
using report_util::Get;
using report_util::Num;
using report_util::Str;
using report_util::U64;

constexpr const char* kPalette[] = {"#2b6cb0", "#c53030", "#2f855a", "#b7791f",
                                    "#6b46c1", "#2c7a7b", "#c05621", "#4a5568"};

std::string E(std::string_view s) { return HtmlEscape(s); }

std::string Fmt(double v, int decimals = 1) {
  if (!std::isfinite(v)) return "-";
  return absl::StrFormat("%.*f", decimals, v);
}

std::string Pct(double fraction) { return absl::StrFormat("%+.1f%%", 100 * fraction); }

// ---------------------------------------------------------------- SVG charts

struct Series {
  std::string name;
  std::vector<std::pair<double, double>> points;
  bool dashed = false;
};

// A "nice" tick step (1, 2 or 5 times a power of ten) giving about `target` ticks over span.
double NiceStep(double span, int target) {
  if (!(span > 0)) return 1;
  const double raw = span / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (raw <= m * mag) return m * mag;
  }
  return 10 * mag;
}

std::string TickLabel(double v) {
  if (std::fabs(v) >= 1e6) return absl::StrFormat("%.1fM", v / 1e6);
  if (std::fabs(v) >= 1e4) return absl::StrFormat("%.0fk", v / 1e3);
  if (std::fabs(v - std::round(v)) < 1e-9) return absl::StrFormat("%.0f", v);
  return absl::StrFormat("%.2g", v);
}

struct Axis {
  double lo = 0, hi = 1;
  // Custom tick labels (x position -> label); empty = numeric ticks.
  std::vector<std::pair<double, std::string>> ticks;
};

constexpr int kW = 760, kH = 280, kLeft = 64, kRight = 16, kTop = 28, kBottom = 40;

// A line chart with numeric (or labelled) axes, a legend across the top and a caption.
std::string LineChart(const std::string& title, const std::string& x_label,
                      const std::string& y_label, const std::vector<Series>& series,
                      Axis x_axis = {}, bool fixed_x = false) {
  double xmin = 1e300, xmax = -1e300, ymax = 0;
  size_t npoints = 0;
  for (const auto& s : series) {
    for (const auto& [x, y] : s.points) {
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      xmin = std::min(xmin, x);
      xmax = std::max(xmax, x);
      ymax = std::max(ymax, y);
      ++npoints;
    }
  }
  std::string out = absl::StrCat("<figure><figcaption>", E(title), "</figcaption>");
  if (npoints == 0) return absl::StrCat(out, "<p class=\"muted\">no data</p></figure>");
  if (fixed_x) {
    xmin = x_axis.lo;
    xmax = x_axis.hi;
  }
  if (xmax <= xmin) xmax = xmin + 1;
  const double ystep = NiceStep(ymax > 0 ? ymax : 1, 5);
  const double ytop = std::max(ystep, std::ceil(ymax / ystep) * ystep);
  const double pw = kW - kLeft - kRight, ph = kH - kTop - kBottom;
  auto px = [&](double x) { return kLeft + (x - xmin) / (xmax - xmin) * pw; };
  auto py = [&](double y) { return kTop + ph - std::clamp(y / ytop, 0.0, 1.0) * ph; };

  absl::StrAppendFormat(&out,
                        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
                        "width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"%s\">",
                        kW, kH, kW, kH, E(title));
  // Grid and y ticks.
  for (double y = 0; y <= ytop + ystep / 2; y += ystep) {
    absl::StrAppendFormat(&out,
                          "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>"
                          "<text class=\"tick\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>",
                          kLeft, py(y), kW - kRight, py(y), kLeft - 6, py(y) + 4, E(TickLabel(y)));
  }
  // X ticks.
  if (!x_axis.ticks.empty()) {
    for (const auto& [x, label] : x_axis.ticks) {
      absl::StrAppendFormat(&out,
                            "<text class=\"tick\" x=\"%.1f\" y=\"%d\" "
                            "text-anchor=\"middle\">%s</text>",
                            px(x), kH - kBottom + 16, E(label));
    }
  } else {
    const double xstep = NiceStep(xmax - xmin, 8);
    for (double x = std::ceil(xmin / xstep) * xstep; x <= xmax + 1e-9; x += xstep) {
      absl::StrAppendFormat(&out,
                            "<text class=\"tick\" x=\"%.1f\" y=\"%d\" "
                            "text-anchor=\"middle\">%s</text>",
                            px(x), kH - kBottom + 16, E(TickLabel(x)));
    }
  }
  absl::StrAppendFormat(&out,
                        "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
                        "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>",
                        kLeft, kTop, kLeft, kH - kBottom, kLeft, kH - kBottom, kW - kRight,
                        kH - kBottom);
  absl::StrAppendFormat(&out,
                        "<text class=\"label\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>"
                        "<text class=\"label\" x=\"12\" y=\"%d\" text-anchor=\"middle\" "
                        "transform=\"rotate(-90 12 %d)\">%s</text>",
                        kLeft + int(pw / 2), kH - 6, E(x_label), kTop + int(ph / 2),
                        kTop + int(ph / 2), E(y_label));
  // Series and legend.
  int legend_x = kLeft;
  for (size_t i = 0; i < series.size(); ++i) {
    const auto& s = series[i];
    const char* color = kPalette[i % std::size(kPalette)];
    std::string pts;
    for (const auto& [x, y] : s.points) {
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      absl::StrAppendFormat(&pts, "%.1f,%.1f ", px(x), py(y));
    }
    if (s.points.size() == 1) {
      absl::StrAppendFormat(&out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>",
                            px(s.points[0].first), py(s.points[0].second), color);
    } else if (!pts.empty()) {
      absl::StrAppendFormat(&out,
                            "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.8\"%s "
                            "points=\"%s\"/>",
                            color, s.dashed ? " stroke-dasharray=\"6 4\"" : "", pts);
    }
    absl::StrAppendFormat(&out,
                          "<rect x=\"%d\" y=\"8\" width=\"12\" height=\"4\" fill=\"%s\"/>"
                          "<text class=\"legend\" x=\"%d\" y=\"14\">%s</text>",
                          legend_x, color, legend_x + 16, E(s.name));
    legend_x += 24 + 7 * int(std::min<size_t>(s.name.size(), 40));
  }
  return absl::StrCat(out, "</svg></figure>");
}

// Horizontal grouped bars (p50 and p99) per label.
std::string HopBars(const std::string& title,
                    const std::vector<std::tuple<std::string, double, double>>& bars) {
  std::string out = absl::StrCat("<figure><figcaption>", E(title), "</figcaption>");
  if (bars.empty()) return absl::StrCat(out, "<p class=\"muted\">no data</p></figure>");
  double vmax = 0;
  for (const auto& [label, p50, p99] : bars) vmax = std::max({vmax, p50, p99});
  if (!(vmax > 0)) vmax = 1;
  const int label_w = 300, row = 30, top = 24;
  const int h = top + row * int(bars.size()) + 10;
  const double bw = kW - label_w - 140;  // room for the value label
  absl::StrAppendFormat(&out,
                        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
                        "width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"%s\">",
                        kW, h, kW, h, E(title));
  absl::StrAppendFormat(&out,
                        "<rect x=\"%d\" y=\"6\" width=\"12\" height=\"6\" fill=\"%s\"/>"
                        "<text class=\"legend\" x=\"%d\" y=\"13\">p50</text>"
                        "<rect x=\"%d\" y=\"6\" width=\"12\" height=\"6\" fill=\"%s\"/>"
                        "<text class=\"legend\" x=\"%d\" y=\"13\">p99</text>",
                        label_w, kPalette[0], label_w + 16, label_w + 60, kPalette[1],
                        label_w + 76);
  int y = top;
  for (const auto& [label, p50, p99] : bars) {
    const double w50 = std::max(1.0, p50 / vmax * bw), w99 = std::max(1.0, p99 / vmax * bw);
    absl::StrAppendFormat(&out,
                          "<text class=\"tick\" x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>"
                          "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"10\" fill=\"%s\"/>"
                          "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"10\" fill=\"%s\"/>"
                          "<text class=\"tick\" x=\"%.1f\" y=\"%d\">%s / %s us</text>",
                          label_w - 8, y + 14, E(label), label_w, y, w50, kPalette[0], label_w,
                          y + 11, w99, kPalette[1], label_w + std::max(w50, w99) + 6, y + 14,
                          Fmt(p50), Fmt(p99));
    y += row;
  }
  return absl::StrCat(out, "</svg></figure>");
}

// x position of percentile p on the "nines" scale: log10(1 / (1 - p/100)), capped at 5 nines.
double NinesX(double p) { return std::log10(1.0 / std::max(1e-5, 1.0 - p / 100.0)); }

// ---------------------------------------------------------------- tables

std::string Table(const std::vector<std::string>& header,
                  const std::vector<std::vector<std::string>>& rows_html) {
  std::string out = "<table><thead><tr>";
  for (const auto& h : header) absl::StrAppend(&out, "<th>", E(h), "</th>");
  out += "</tr></thead><tbody>";
  for (const auto& row : rows_html) {
    out += "<tr>";
    for (const auto& cell : row) absl::StrAppend(&out, "<td>", cell, "</td>");
    out += "</tr>";
  }
  return absl::StrCat(out, "</tbody></table>");
}

std::string Badge(bool ok, const char* yes = "PASS", const char* no = "FAIL") {
  return absl::StrCat("<span class=\"", ok ? "ok" : "bad", "\">", ok ? yes : no, "</span>");
}

std::string Section(const std::string& id, const std::string& title, const std::string& body) {
  return absl::StrCat("<section id=\"", E(id), "\"><h2>", E(title), "</h2>", body, "</section>");
}

constexpr const char* kCss = R"css(
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1a202c;background:#f7fafc}
main{max-width:1000px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;border-bottom:1px solid #e2e8f0;padding-bottom:4px;margin-top:28px}
.muted{color:#718096}.ok{color:#fff;background:#2f855a;padding:1px 6px;border-radius:3px;font-weight:600}
.bad{color:#fff;background:#c53030;padding:1px 6px;border-radius:3px;font-weight:600}
.summary{display:flex;gap:16px;flex-wrap:wrap}.card{background:#fff;border:1px solid #e2e8f0;border-radius:6px;padding:12px 16px;min-width:140px}
.big{font-size:30px;font-weight:700}.grade-A,.grade-B{color:#2f855a}.grade-C{color:#b7791f}.grade-D,.grade-F{color:#c53030}
table{border-collapse:collapse;width:100%;background:#fff;margin:8px 0}th,td{border:1px solid #e2e8f0;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#edf2f7;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:12px 0;background:#fff;border:1px solid #e2e8f0;border-radius:6px;padding:8px}figcaption{font-weight:600;margin-bottom:4px}
svg{max-width:100%;height:auto}svg .grid{stroke:#edf2f7}svg .axis{stroke:#a0aec0}svg text{font:11px system-ui,sans-serif;fill:#4a5568}
svg .label{font-size:12px;fill:#2d3748}pre{background:#fff;border:1px solid #e2e8f0;padding:8px;overflow:auto}
ul{padding-left:20px}li{margin:4px 0}
)css";

std::string Td(double v, int decimals = 1) { return Fmt(v, decimals); }

std::string UnixNsToText(double ns) {
  if (!(ns > 0)) return "-";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", absl::FromUnixNanos(int64_t(ns)),
                          absl::UTCTimeZone());
}

}  // namespace

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string BuildReportHtml(const nlohmann::json& report) {
  const nlohmann::json& r = report;
  const std::string scenario = Str(r, "scenario");
  const bool passed = Bool(r, "passed");
  const auto& grade = Get(r, "grade");
  const std::string letter = Str(grade, "letter", "?");
  const auto& ops = Get(r, "operations");
  const auto& cp = Get(r, "critical_path");
  const auto& slos = Get(r, "slos");
  const auto& baseline = Get(r, "baseline");

  std::string html = absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<title>tickmesh load test: ",
      E(scenario), " ", E(Str(r, "run_id")), "</title><style>", kCss,
      "</style></head><body><main>");
  absl::StrAppend(&html, "<h1>tickmesh load test: ", E(scenario), "</h1><p class=\"muted\">run ",
                  E(Str(r, "run_id")), " &middot; mode ", E(Str(r, "mode")), " &middot; started ",
                  E(UnixNsToText(Num(r, "started_unix_ns"))), " &middot; ",
                  Fmt(Num(r, "duration_s")), " s &middot; report schema ",
                  Fmt(Num(r, "schema_version"), 0), "</p>");

  // Executive summary.
  {
    std::string body = "<div class=\"summary\">";
    absl::StrAppend(&body,
                    "<div class=\"card\"><div class=\"muted\">verdict</div><div class=\"big\">",
                    Badge(passed), "</div></div>");
    absl::StrAppend(&body, "<div class=\"card\"><div class=\"muted\">score / grade</div>",
                    "<div class=\"big grade-", E(letter), "\">", Fmt(Num(grade, "score")), " ",
                    E(letter), "</div></div>");
    const std::string primary = Str(r, "primary_operation");
    const auto& pop = Get(ops, primary.c_str());
    if (pop.is_object()) {
      const auto& l = Get(pop, "latency_us");
      absl::StrAppend(&body, "<div class=\"card\"><div class=\"muted\">", E(primary),
                      "</div><div>p50 <b>", Fmt(Num(l, "p50")), "</b> us &middot; p99 <b>",
                      Fmt(Num(l, "p99")), "</b> us</div><div>", Fmt(Num(pop, "rate_per_s"), 0),
                      " /s &middot; ", U64(pop, "count"), " ok &middot; ", U64(pop, "errors"),
                      " errors</div></div>");
    }
    int slo_pass = 0, slo_total = 0;
    if (slos.is_array()) {
      for (const auto& s : slos) {
        ++slo_total;
        slo_pass += Bool(s, "passed") ? 1 : 0;
      }
    }
    absl::StrAppend(&body, "<div class=\"card\"><div class=\"muted\">SLOs</div><div class=\"big\">",
                    slo_pass, "/", slo_total, "</div></div>");
    if (!Str(cp, "slowest_hop").empty()) {
      absl::StrAppend(&body, "<div class=\"card\"><div class=\"muted\">slowest hop</div><div>",
                      E(Str(cp, "slowest_hop")), "</div><div>p99 ", Fmt(Num(cp, "p99_us")), " us (",
                      Fmt(100 * Num(cp, "share_of_p99"), 0), "% of path)</div></div>");
    }
    if (baseline.is_object()) {
      absl::StrAppend(&body, "<div class=\"card\"><div class=\"muted\">vs baseline ",
                      E(Str(baseline, "run_id")), "</div><div class=\"big\">",
                      Badge(!Bool(baseline, "regressed"), "no regression", "REGRESSED"),
                      "</div></div>");
    }
    body += "</div>";
    if (!Str(r, "error").empty()) {
      absl::StrAppend(&body, "<p><span class=\"bad\">error</span> ", E(Str(r, "error")), "</p>");
    }
    const auto& counters = Get(r, "counters");
    if (counters.is_object() && !counters.empty()) {
      body += "<p class=\"muted\">";
      for (const auto& [k, v] : counters.items()) {
        absl::StrAppend(&body, E(k), " <b>", E(v.is_number() ? v.dump() : "?"), "</b> &nbsp; ");
      }
      body += "</p>";
    }
    html += Section("summary", "Executive summary", body);
  }

  // SLOs.
  {
    std::vector<std::vector<std::string>> rows;
    if (slos.is_array()) {
      for (const auto& s : slos) {
        const auto& margin = Get(s, "margin");
        rows.push_back({E(Str(s, "objective")),
                        Num(s, "observed", -1) < 0 ? "no samples" : Td(Num(s, "observed")),
                        margin.is_number() ? Fmt(100 * margin.get<double>(), 0) + "%" : "-",
                        E(std::to_string(U64(s, "samples"))), Badge(Bool(s, "passed")),
                        E(Str(s, "reason"))});
      }
    }
    html += Section("slos", "SLOs",
                    rows.empty() ? "<p class=\"muted\">no SLOs were set</p>"
                                 : Table({"objective", "observed (us)", "of objective", "samples",
                                          "verdict", "reason"},
                                         rows));
  }

  // Bottlenecks and recommendations.
  {
    std::string body;
    const auto& bottlenecks = Get(r, "bottlenecks");
    if (bottlenecks.is_array() && !bottlenecks.empty()) {
      body += "<h3>Bottlenecks</h3><ul>";
      for (const auto& b : bottlenecks) {
        absl::StrAppend(&body, "<li><b>", E(Str(b, "kind")), "</b> ", E(Str(b, "subject")), ": ",
                        E(Str(b, "detail")), "</li>");
      }
      body += "</ul>";
    } else {
      body += "<p class=\"muted\">no bottleneck found in the data</p>";
    }
    const auto& recs = Get(r, "recommendations");
    if (recs.is_array() && !recs.empty()) {
      body += "<h3>Recommendations</h3><ul>";
      for (const auto& rec : recs) {
        absl::StrAppend(&body, "<li>", E(Str(rec, "text")), "<br><span class=\"muted\">",
                        E(Str(rec, "rule")), ": ", E(Str(rec, "evidence")), "</span></li>");
      }
      body += "</ul>";
    } else {
      body += "<p class=\"muted\">nothing in the data calls for action</p>";
    }
    const auto& deductions = Get(grade, "deductions");
    if (deductions.is_array() && !deductions.empty()) {
      std::vector<std::vector<std::string>> rows;
      for (const auto& d : deductions) {
        rows.push_back({E(Str(d, "rule")), E(Str(d, "reason")), Td(Num(d, "points"))});
      }
      body += "<h3>Score deductions</h3>" + Table({"rule", "reason", "points"}, rows);
    }
    html += Section("analysis", "Bottlenecks and recommendations", body);
  }

  // Operations.
  {
    std::vector<std::vector<std::string>> rows;
    if (ops.is_object()) {
      for (const auto& [name, op] : ops.items()) {
        const auto& l = Get(op, "latency_us");
        rows.push_back({E(name), E(std::to_string(U64(op, "count"))),
                        E(std::to_string(U64(op, "errors"))), Td(Num(op, "rate_per_s"), 0),
                        Td(Num(l, "p50")), Td(Num(l, "p90")), Td(Num(l, "p99")), Td(Num(l, "p999")),
                        Td(Num(l, "max")), Td(Num(l, "mean"))});
      }
    }
    html += Section("operations", "Operations (latency in microseconds)",
                    rows.empty() ? "<p class=\"muted\">no operations</p>"
                                 : Table({"operation", "count", "errors", "rate/s", "p50", "p90",
                                          "p99", "p99.9", "max", "mean"},
                                         rows));
  }

  // Charts.
  {
    std::string body;
    const auto& timeline = Get(r, "timeline");
    Series p50{"p50", {}}, p99{"p99", {}}, target{"target /s", {}, true}, sent{"sent /s", {}},
        done{"completed /s", {}};
    if (timeline.is_array()) {
      for (const auto& t : timeline) {
        const double x = Num(t, "t_s");
        p50.points.push_back({x, Num(t, "p50_us")});
        p99.points.push_back({x, Num(t, "p99_us")});
        target.points.push_back({x, Num(t, "target_per_s")});
        sent.points.push_back({x, Num(t, "sent_per_s")});
        done.points.push_back({x, Num(t, "completed_per_s")});
      }
    }
    const std::string primary = Str(r, "primary_operation");
    body += LineChart(absl::StrCat("Latency over time (", primary, ", per second)"), "seconds",
                      "microseconds", {p50, p99});
    std::vector<Series> curves;
    if (ops.is_object()) {
      for (const auto& [name, op] : ops.items()) {
        const auto& curve = Get(op, "percentile_curve");
        if (!curve.is_array() || curve.empty()) continue;
        Series s{name, {}};
        for (const auto& pt : curve) s.points.push_back({NinesX(Num(pt, "p")), Num(pt, "us")});
        curves.push_back(std::move(s));
      }
    }
    Axis nines{0, 5, {{0, "0%"}, {1, "90%"}, {2, "99%"}, {3, "99.9%"}, {4, "99.99%"}, {5, "100%"}}};
    body += LineChart("Percentile curve (from the latency histograms)", "percentile",
                      "microseconds", curves, nines, true);
    std::vector<std::tuple<std::string, double, double>> bars;
    if (const auto& hops = Get(r, "hops"); hops.is_array()) {
      for (const auto& h : hops) {
        const auto& l = Get(h, "latency_us");
        bars.emplace_back(Str(h, "hop"), Num(l, "p50"), Num(l, "p99"));
      }
    }
    body += HopBars("Per-hop latency (p50 / p99, microseconds)", bars);
    body +=
        LineChart("Throughput over time", "seconds", "operations per second", {target, sent, done});
    std::vector<Series> memory, queues;
    const auto& services = Get(Get(r, "resources"), "services");
    if (services.is_object()) {
      for (const auto& [svc, res] : services.items()) {
        Series mem{svc, {}}, queue{svc, {}};
        if (const auto& series = Get(res, "series"); series.is_array()) {
          for (const auto& pt : series) {
            mem.points.push_back({Num(pt, "t_s"), Num(pt, "rss_mb")});
            queue.points.push_back({Num(pt, "t_s"), Num(pt, "queue_depth")});
          }
        }
        memory.push_back(std::move(mem));
        // Only services that export a queue gauge get a queue-depth line.
        if (const auto& q = Get(res, "queues"); q.is_object() && !q.empty()) {
          queues.push_back(std::move(queue));
        }
      }
    }
    body += LineChart("Memory (RSS) per service", "seconds", "MB", memory);
    if (!queues.empty()) {
      body += LineChart("Queue depth per service (sum of its queue gauges)", "seconds", "items",
                        queues);
    }
    html += Section("charts", "Charts", body);
  }

  // Resources.
  {
    std::vector<std::vector<std::string>> rows;
    const auto& resources = Get(r, "resources");
    const auto& services = Get(resources, "services");
    if (services.is_object()) {
      for (const auto& [svc, res] : services.items()) {
        std::string queues;
        if (const auto& q = Get(res, "queues"); q.is_object()) {
          for (const auto& [g, v] : q.items()) {
            absl::StrAppend(&queues, E(g), ": max ", Fmt(Num(v, "max"), 0), ", ",
                            Fmt(Num(v, "growth_per_s"), 2), "/s<br>");
          }
        }
        // Bounded retention: items kept / cap, and whether it was full (growth measured after).
        if (const auto& ret = Get(res, "retention"); ret.is_object()) {
          for (const auto& [base, v] : ret.items()) {
            absl::StrAppend(
                &queues, E(base), ": ", Fmt(Num(v, "retained"), 0), " of ", Fmt(Num(v, "limit"), 0),
                " retained",
                Bool(v, "filling")
                    ? absl::StrCat(", filling, ~", Fmt(Num(v, "bytes_per_item"), 0), " B/item")
                    : (Num(v, "full_at_s", -1) >= 0
                           ? absl::StrCat(", full at ", Fmt(Num(v, "full_at_s"), 1), " s")
                           : std::string()),
                "<br>");
          }
        }
        const double growth = Num(res, "mem_growth_mb_per_min");
        const bool filling = Bool(res, "retention_filling");
        rows.push_back(
            {E(svc), E(std::to_string(U64(res, "sample_count"))), Td(Num(res, "rss_max_mb")),
             Td(Num(res, "cpu_avg_cores"), 2), Td(Num(res, "cpu_max_cores"), 2),
             filling      ? absl::StrCat(Fmt(growth, 2), " (retention filling)")
             : growth > 5 ? absl::StrCat("<span class=\"bad\">", Fmt(growth, 2), "</span>")
                          : Fmt(growth, 2),
             queues, E(Str(res, "error"))});
      }
    }
    html += Section(
        "resources",
        absl::StrCat("Resources (host cores: ", Fmt(Num(resources, "host_cores"), 0), ")"),
        rows.empty()
            ? "<p class=\"muted\">no resource samples</p>"
            : Table({"service", "samples", "RSS max (MB)", "CPU avg (cores)", "CPU peak (cores)",
                     "growth (MB/min)", "queues, retention", "scrape errors"},
                    rows));
  }

  // Faults, integrity, breaking point.
  {
    std::string body;
    std::vector<std::vector<std::string>> rows;
    if (const auto& faults = Get(r, "faults"); faults.is_array()) {
      for (const auto& f : faults) {
        rows.push_back({Td(Num(f, "at_s")), E(Str(f, "action")),
                        Badge(Bool(f, "ok"), "ok", "FAILED"), E(Str(f, "detail"))});
      }
    }
    body += rows.empty() ? "<p class=\"muted\">no faults injected</p>"
                         : Table({"at (s)", "action", "result", "detail"}, rows);
    rows.clear();
    if (const auto& checks = Get(r, "integrity"); checks.is_array()) {
      for (const auto& c : checks) {
        rows.push_back({E(Str(c, "name")), E(std::to_string(U64(c, "expected"))),
                        E(std::to_string(U64(c, "found"))), E(std::to_string(U64(c, "missing"))),
                        E(std::to_string(U64(c, "duplicated"))), Badge(Bool(c, "passed")),
                        E(Str(c, "detail"))});
      }
    }
    body +=
        rows.empty()
            ? "<p class=\"muted\">no integrity checks</p>"
            : Table({"check", "expected", "found", "missing", "duplicated", "verdict", "detail"},
                    rows);
    const auto& bp = Get(r, "breaking_point");
    if (Bool(bp, "searched")) {
      absl::StrAppend(&body, "<p>Breaking point: SLOs held up to <b>",
                      Fmt(Num(bp, "rate_per_s"), 0), " /s</b>; next step: ", E(Str(bp, "reason")),
                      "</p>");
    }
    html += Section("faults", "Faults, integrity and breaking point", body);
  }

  // Baseline.
  {
    std::string body;
    if (baseline.is_object()) {
      absl::StrAppend(&body, "<p>Baseline run ", E(Str(baseline, "run_id")), " (",
                      E(Str(baseline, "scenario")), "), regression threshold ",
                      Fmt(100 * Num(baseline, "threshold"), 0), "%.</p>");
      std::vector<std::vector<std::string>> rows;
      if (const auto& bops = Get(baseline, "operations"); bops.is_object()) {
        for (const auto& [name, d] : bops.items()) {
          std::vector<std::string> row{E(name)};
          for (const char* m : {"p50_us", "p99_us", "rate_per_s"}) {
            const auto& md = Get(d, m);
            std::string cell =
                absl::StrCat(Fmt(Num(md, "baseline")), " &rarr; ", Fmt(Num(md, "current")), " (",
                             Pct(Num(md, "change")), ")");
            if (Bool(md, "regressed")) cell = absl::StrCat("<span class=\"bad\">", cell, "</span>");
            row.push_back(cell);
          }
          row.push_back(Badge(!Bool(d, "regressed"), "ok", "REGRESSED"));
          rows.push_back(std::move(row));
        }
      }
      body +=
          rows.empty()
              ? "<p class=\"muted\">no operation in common</p>"
              : Table({"operation", "p50 (us)", "p99 (us)", "throughput (/s)", "verdict"}, rows);
      for (const char* key : {"only_in_baseline", "only_in_current"}) {
        const auto& list = Get(baseline, key);
        if (!list.is_array() || list.empty()) continue;
        absl::StrAppend(&body, "<p class=\"muted\">", E(key), ":");
        for (const auto& n : list) {
          if (n.is_string()) absl::StrAppend(&body, " ", E(n.get<std::string>()));
        }
        body += "</p>";
      }
    } else {
      body = "<p class=\"muted\">no baseline given (--baseline FILE)</p>";
    }
    html += Section("baseline", "Baseline comparison", body);
  }

  html +=
      Section("config", "Configuration",
              absl::StrCat(
                  "<pre>",
                  E(Get(r, "config").dump(2, ' ', false, nlohmann::json::error_handler_t::replace)),
                  "</pre>"));
  html += "</main></body></html>\n";
  return html;
}

absl::Status WriteReportFiles(const std::string& dir, const nlohmann::json& report) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
  auto write = [](const std::string& path, const std::string& text) -> absl::Status {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
    return absl::OkStatus();
  };
  if (absl::Status s =
          write(dir + "/report.json",
                report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
      !s.ok()) {
    return s;
  }
  return write(dir + "/report.html", BuildReportHtml(report));
}

}  // namespace tickmesh::loadtest
