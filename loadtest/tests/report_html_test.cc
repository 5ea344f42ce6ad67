#include "report_html.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "report.h"

namespace tickmesh::loadtest {
namespace {

// A tiny well-formedness checker: every non-void element is closed in order, self-closing
// (<x/>) and void elements (meta, br) need no close, <style>/<script> bodies are raw text, and
// quoted attribute values may not break a tag. Returns "" when balanced, else what went wrong.
std::string CheckBalanced(const std::string& html) {
  std::vector<std::string> stack;
  size_t i = 0;
  while ((i = html.find('<', i)) != std::string::npos) {
    if (html.compare(i, 9, "<!DOCTYPE") == 0) {
      i = html.find('>', i);
      if (i == std::string::npos) return "unterminated doctype";
      continue;
    }
    if (html.compare(i, 4, "<!--") == 0) {
      i = html.find("-->", i);
      if (i == std::string::npos) return "unterminated comment";
      continue;
    }
    size_t j = i + 1;
    bool closing = j < html.size() && html[j] == '/';
    if (closing) ++j;
    size_t name_start = j;
    while (j < html.size() &&
           (std::isalnum(static_cast<unsigned char>(html[j])) || html[j] == '-')) {
      ++j;
    }
    std::string name = html.substr(name_start, j - name_start);
    if (name.empty()) return "stray '<' at offset " + std::to_string(i);
    char quote = 0;
    for (; j < html.size(); ++j) {
      if (quote) {
        if (html[j] == quote) quote = 0;
      } else if (html[j] == '"' || html[j] == '\'') {
        quote = html[j];
      } else if (html[j] == '>') {
        break;
      } else if (html[j] == '<') {
        return "'<' inside tag " + name;
      }
    }
    if (j >= html.size()) return "unterminated tag " + name;
    const bool self_closing = html[j - 1] == '/';
    i = j + 1;
    if (closing) {
      if (stack.empty() || stack.back() != name) {
        return "</" + name + "> does not close <" + (stack.empty() ? "" : stack.back()) + ">";
      }
      stack.pop_back();
    } else if (self_closing || name == "meta" || name == "br") {
      continue;
    } else if (name == "style" || name == "script") {
      size_t end = html.find("</" + name + ">", i);
      if (end == std::string::npos) return "unterminated " + name;
      i = end + name.size() + 3;
    } else {
      stack.push_back(name);
    }
  }
  if (!stack.empty()) return "unclosed <" + stack.back() + ">";
  return "";
}

RunResult SampleResult(const std::string& hop_name) {
  RunResult r;
  r.primary_operation = "tick_to_order";
  auto& op = r.operations["tick_to_order"];
  for (int i = 1; i <= 1000; ++i) op.latency_ns.Record(i * 1000);
  op.duration_s = 10;
  r.hops[hop_name].Record(4000);
  r.hops["signal.emit->execution.recv"].Record(9000);
  r.hop_order = {hop_name, "signal.emit->execution.recv"};
  for (int s = 1; s <= 10; ++s) r.timeline.push_back({double(s), 100, 100, 99, 0, 400000, 990000});
  for (const char* svc : {"market-data", "execution"}) {
    auto& res = r.resources[svc];
    for (int s = 0; s < 10; ++s) {
      ResourceSample sample;
      sample.t_s = s;
      sample.rss_bytes = 40e6 + s * 1e5;
      sample.cpu_seconds = 0.1 * s;
      res.samples.push_back(sample);
    }
  }
  r.faults.push_back({"kill redis", 3, true, "pid 77"});
  r.integrity.push_back({"fills_durable_once", 5, 5, 0, 0, true, "<b>ok</b>"});
  return r;
}

TEST(HtmlEscape, EscapesMarkupCharacters) {
  EXPECT_EQ(HtmlEscape(R"(<a href="x">'&'</a>)"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  EXPECT_EQ(HtmlEscape("plain"), "plain");
}

TEST(CheckBalanced, CatchesUnbalancedMarkup) {
  EXPECT_EQ(CheckBalanced("<p><b>x</b></p>"), "");
  EXPECT_NE(CheckBalanced("<p><b>x</p></b>"), "");
  EXPECT_NE(CheckBalanced("<div><p>x</p>"), "");
  EXPECT_NE(CheckBalanced("<p>a < b</p>"), "");
}

TEST(ReportHtml, IsBalancedSelfContainedAndHasEveryChart) {
  RunInfo info;
  info.run_id = "run-7";
  info.scenario = "sustained";
  info.slos = {{"tick_to_order", "p99", 2000}};
  nlohmann::json base = BuildReportJson(info, SampleResult("loadtest.emit->market-data.recv"));
  info.baseline = base;
  const std::string html =
      BuildReportHtml(BuildReportJson(info, SampleResult("loadtest.emit->market-data.recv")));
  EXPECT_EQ(CheckBalanced(html), "");
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  // Self-contained: no scripts, no external resources (the SVG namespace is not a fetch).
  std::string lower = html;
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  EXPECT_EQ(lower.find("<script"), std::string::npos);
  EXPECT_EQ(lower.find("src="), std::string::npos);
  EXPECT_EQ(lower.find("href="), std::string::npos);
  EXPECT_EQ(lower.find("@import"), std::string::npos);
  EXPECT_EQ(lower.find("url("), std::string::npos);
  size_t svgs = 0;
  for (size_t at = 0; (at = html.find("<svg", at)) != std::string::npos; ++at) ++svgs;
  EXPECT_EQ(svgs, 5u);  // latency over time, percentile curve, hops, throughput, memory
  EXPECT_EQ(html.find("Queue depth per service"), std::string::npos);  // no queue gauges
  for (const char* section :
       {"Executive summary", "SLOs", "Bottlenecks", "Recommendations", "Latency over time",
        "Percentile curve", "Per-hop latency", "Throughput over time", "Memory (RSS) per service",
        "fills_durable_once", "kill redis", "Baseline run run-7", "polyline"}) {
    EXPECT_NE(html.find(section), std::string::npos) << section;
  }
}

TEST(ReportHtml, DrawsQueueDepthWhenAServiceExportsQueueGauges) {
  RunResult r = SampleResult("a.emit->b.recv");
  for (auto& sample : r.resources["execution"].samples) {
    sample.gauges["tickmesh_execution_outbox_depth"] = sample.t_s * 3;
  }
  const std::string html = BuildReportHtml(BuildReportJson(RunInfo{}, r));
  EXPECT_EQ(CheckBalanced(html), "");
  EXPECT_NE(html.find("Queue depth per service"), std::string::npos);
  size_t svgs = 0;
  for (size_t at = 0; (at = html.find("<svg", at)) != std::string::npos; ++at) ++svgs;
  EXPECT_EQ(svgs, 6u);
}

TEST(ReportHtml, EscapesInjectionAttemptsInEveryString) {
  const std::string evil = "<script>alert(1)</script>";
  RunInfo info;
  info.run_id = "\"><img src=x onerror=alert(1)>";
  info.scenario = evil;
  info.config = {{"note", evil}};
  RunResult r = SampleResult(evil + "->x.recv");
  r.error = evil;
  r.faults[0].action = evil;
  r.counters[evil] = 1;
  nlohmann::json report = BuildReportJson(info, r);
  const std::string html = BuildReportHtml(report);
  EXPECT_EQ(CheckBalanced(html), "");
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
}

TEST(ReportHtml, EmptyOrMalformedReportStillRenders) {
  for (const nlohmann::json& j :
       {nlohmann::json::object(), nlohmann::json::array(), nlohmann::json(42),
        nlohmann::json{{"operations", "x"}, {"timeline", {1, 2}}, {"grade", {{"score", "?"}}}}}) {
    std::string html;
    ASSERT_NO_THROW(html = BuildReportHtml(j)) << j.dump();
    EXPECT_EQ(CheckBalanced(html), "") << j.dump();
    EXPECT_NE(html.find("no data"), std::string::npos);
  }
}

TEST(ReportHtml, WriteReportFilesWritesBothFiles) {
  auto dir = std::filesystem::temp_directory_path() /
             ("report_html_test_" + std::to_string(getpid())) / "nested";
  RunInfo info;
  info.scenario = "sustained";
  nlohmann::json report = BuildReportJson(info, SampleResult("a.emit->b.recv"));
  ASSERT_TRUE(WriteReportFiles(dir.string(), report).ok());
  std::ifstream json_in(dir / "report.json");
  EXPECT_EQ(nlohmann::json::parse(json_in), report);
  std::ifstream html_in(dir / "report.html");
  std::stringstream html;
  html << html_in.rdbuf();
  EXPECT_EQ(html.str(), BuildReportHtml(report));
  std::filesystem::remove_all(dir.parent_path());
  // A path under a regular file cannot be created.
  auto file =
      std::filesystem::temp_directory_path() / ("report_html_file_" + std::to_string(getpid()));
  std::ofstream(file) << "x";
  EXPECT_FALSE(WriteReportFiles((file / "sub").string(), report).ok());
  std::filesystem::remove(file);
}

}  // namespace
}  // namespace tickmesh::loadtest
