#include "tick_load.h"

#include <cmath>
#include <random>
#include <thread>
#include <unordered_set>

#include "absl/strings/str_cat.h"
#include "tickmesh/runtime/client.h"
#include "tickmesh/runtime/clock.h"
#include "tickmesh/runtime/log.h"
#include "tickmesh/v1/execution.grpc.pb.h"
#include "tickmesh/v1/market_data.grpc.pb.h"

namespace tickmesh::loadtest {
namespace {

using runtime::NowUnixNs;
using tickmesh::v1::MarketEvent;
using tickmesh::v1::MarketEventBatch;
using tickmesh::v1::OrderEvent;

constexpr int64_t kE8 = 100000000;

// A seeded random walk per symbol, in fixed point.
struct Walk {
  int64_t price_e8;
  uint64_t seq = 0;
};

void FillBook(MarketEvent* e, int64_t mid_e8) {
  auto* snap = e->mutable_snapshot();
  const int64_t tick = std::max<int64_t>(1, mid_e8 / 100000);  // 1 bp levels
  for (int i = 1; i <= 5; ++i) {
    auto* b = snap->add_bids();
    b->set_price_e8(mid_e8 - i * tick);
    b->set_qty_e8(10 * kE8);
    auto* a = snap->add_asks();
    a->set_price_e8(mid_e8 + i * tick);
    a->set_qty_e8(10 * kE8);
  }
}

std::string HopName(const tickmesh::v1::HopStamp& a, const tickmesh::v1::HopStamp& b) {
  return absl::StrCat(a.service(), ".", a.stage(), "->", b.service(), ".", b.stage());
}

}  // namespace

TickLoadResult RunTickLoad(const TickLoadConfig& config,
                           const std::function<void(const TickLoadProgress&)>& progress,
                           const std::atomic<bool>* stop) {
  TickLoadResult result;
  std::mt19937_64 rng(config.seed);
  // High 32 bits of every trace id tag this run; order events of other runs are ignored.
  const uint64_t run_tag = (rng() & 0x7fffffffULL) | 1;
  std::mutex mu;  // guards result's histograms shared by the two threads
  std::atomic<uint64_t> sent{0}, publish_errors{0}, fills{0};
  std::atomic<bool> sending_done{false};

  // Follow order events first, so no early fill is missed.
  auto exec_channel = runtime::MakeChannel(config.execution_address);
  auto exec = tickmesh::v1::ExecutionService::NewStub(exec_channel);
  grpc::ClientContext events_ctx;
  tickmesh::v1::StreamOrderEventsRequest events_req;
  events_req.set_subscriber("loadtest");
  for (const auto& s : config.symbols) events_req.add_symbols(s);
  std::unordered_set<uint64_t> ordered;  // trace ids that already produced an order event
  std::thread follower([&] {
    auto reader = exec->StreamOrderEvents(&events_ctx, events_req);
    tickmesh::v1::OrderEventBatch batch;
    while (reader->Read(&batch)) {
      const int64_t now = NowUnixNs();
      std::lock_guard<std::mutex> lock(mu);
      for (const OrderEvent& ev : batch.events()) {
        const auto& trace = ev.trace();
        if ((trace.trace_id() >> 32) != run_tag) continue;
        ++result.order_events;
        const int64_t latency = now - trace.origin_unix_ns();
        if (ordered.insert(trace.trace_id()).second) {
          result.operations["tick_to_order"].latency_ns.Record(latency);
        }
        if (ev.type() == tickmesh::v1::ORDER_EVENT_TYPE_REJECTED) ++result.rejects;
        if (ev.type() != tickmesh::v1::ORDER_EVENT_TYPE_FILL) continue;
        ++result.fills;
        fills.fetch_add(1);
        result.operations["tick_to_fill"].latency_ns.Record(latency);
        // Per-hop breakdown along the fill's path, ending with the receipt here.
        for (int i = 1; i <= trace.hops_size(); ++i) {
          tickmesh::v1::HopStamp last;
          last.set_service("loadtest");
          last.set_stage("recv");
          last.set_unix_ns(now);
          const auto& a = trace.hops(i - 1);
          const auto& b = i < trace.hops_size() ? trace.hops(i) : last;
          std::string name = HopName(a, b);
          auto [it, inserted] = result.hops.try_emplace(name);
          if (inserted) result.hop_order.push_back(name);
          it->second.Record(b.unix_ns() - a.unix_ns());
        }
      }
    }
    grpc::Status st = reader->Finish();
    if (!st.ok() && !sending_done.load()) {
      runtime::LogWarn("order event stream ended", {{"error", st.error_message()}});
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));

  // Open-loop publisher.
  auto md_channel = runtime::MakeChannel(config.market_data_address);
  auto md = tickmesh::v1::MarketDataService::NewStub(md_channel);
  std::vector<Walk> walks;
  for (size_t i = 0; i < config.symbols.size(); ++i) walks.push_back(Walk{1000 * kE8});
  std::normal_distribution<double> step(0.0, 1.0);

  result.started_unix_ns = NowUnixNs();
  const int64_t interval_ns = int64_t(1e9 / std::max(1.0, config.rate_per_s));
  const int64_t start_ns = NowUnixNs();
  const int64_t end_ns = start_ns + int64_t(config.duration_s * 1e9);
  uint64_t next = 0;  // index of the next tick to send; its intended time is start + next*interval
  int64_t last_progress_ns = start_ns;
  uint64_t last_progress_sent = 0;
  OperationResult& publish = result.operations["publish"];

  while (NowUnixNs() < end_ns && !(stop && stop->load())) {
    grpc::ClientContext ctx;
    tickmesh::v1::PublishAck ack;
    auto writer = md->Publish(&ctx, &ack);
    bool stream_ok = true;
    while (stream_ok && !(stop && stop->load())) {
      int64_t now = NowUnixNs();
      if (now >= end_ns) break;
      int64_t due = start_ns + int64_t(next) * interval_ns;
      if (due > now) {
        std::this_thread::sleep_for(std::chrono::nanoseconds(std::min<int64_t>(due - now, 200000)));
        continue;
      }
      MarketEventBatch batch;
      std::vector<int64_t> intended;
      while (due <= now && int(intended.size()) < config.max_batch && due < end_ns) {
        size_t k = next % walks.size();
        Walk& w = walks[k];
        // Random walk, 2 bp per step, in fixed point.
        w.price_e8 = std::max<int64_t>(kE8, w.price_e8 + int64_t(step(rng) * double(w.price_e8) * 2e-4));
        const uint64_t trace_id = (run_tag << 32) | (next & 0xffffffffULL);
        if (next % config.book_every == 0) {
          MarketEvent* book = batch.add_events();
          book->set_venue(config.venue);
          book->set_symbol(config.symbols[k]);
          book->set_seq(++w.seq);
          book->set_exchange_unix_ns(due);
          book->set_receive_unix_ns(now);
          FillBook(book, w.price_e8);
        }
        MarketEvent* e = batch.add_events();
        e->set_venue(config.venue);
        e->set_symbol(config.symbols[k]);
        e->set_seq(++w.seq);
        e->set_exchange_unix_ns(due);
        e->set_receive_unix_ns(now);
        auto* trade = e->mutable_trade();
        trade->set_price_e8(w.price_e8);
        trade->set_qty_e8(kE8 / 100);
        trade->set_aggressor_side(rng() & 1 ? tickmesh::v1::SIDE_BUY : tickmesh::v1::SIDE_SELL);
        auto* trace = e->mutable_trace();
        trace->set_trace_id(trace_id);
        trace->set_origin_unix_ns(due);
        intended.push_back(due);
        ++next;
        due = start_ns + int64_t(next) * interval_ns;
      }
      if (intended.empty()) break;
      const int64_t emit = NowUnixNs();
      for (auto& e : *batch.mutable_events()) {
        if (!e.has_trace()) continue;
        auto* hop = e.mutable_trace()->add_hops();
        hop->set_service("loadtest");
        hop->set_stage("emit");
        hop->set_unix_ns(emit);
      }
      stream_ok = writer->Write(batch);
      const int64_t done = NowUnixNs();
      std::lock_guard<std::mutex> lock(mu);
      for (int64_t t : intended) {
        if (stream_ok) {
          publish.latency_ns.Record(done - t);
        } else {
          ++publish.errors;
        }
      }
      if (stream_ok) sent.fetch_add(intended.size());
      if (progress && done - last_progress_ns >= 1000000000) {
        TickLoadProgress p;
        p.elapsed_s = double(done - start_ns) / 1e9;
        p.total_s = config.duration_s;
        p.sent = sent.load();
        p.errors = publish.errors;
        p.fills = fills.load();
        p.current_rate_per_s = double(p.sent - last_progress_sent) * 1e9 / double(done - last_progress_ns);
        auto it = result.operations.find("tick_to_order");
        p.tick_to_order_p99_ns = it == result.operations.end() ? 0 : it->second.latency_ns.Percentile(99);
        last_progress_ns = done;
        last_progress_sent = p.sent;
        progress(p);
      }
    }
    writer->WritesDone();
    grpc::Status st = writer->Finish();
    if (!st.ok()) {
      result.error = absl::StrCat("publish to market-data at ", config.market_data_address, ": ",
                                  st.error_message());
      runtime::LogWarn("publish stream failed; reopening", {{"error", st.error_message()}});
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  const int64_t sent_end = NowUnixNs();
  // Let the last ticks travel through the mesh, then stop following.
  const int64_t drain_until = sent_end + int64_t(config.drain_s * 1e9);
  while (NowUnixNs() < drain_until && !(stop && stop->load())) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  sending_done.store(true);
  events_ctx.TryCancel();
  follower.join();

  result.finished_unix_ns = NowUnixNs();
  result.ticks_sent = sent.load();
  const double send_s = double(sent_end - start_ns) / 1e9;
  for (auto& [name, op] : result.operations) op.duration_s = send_s;
  if (result.ticks_sent > 0) result.error.clear();  // transient publish errors are counted
  return result;
}

}  // namespace tickmesh::loadtest
