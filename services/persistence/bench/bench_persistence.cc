// tickmesh-bench-persistence: drives a running tickmesh-persistence with Append streams of Fill
// records (scripts/bench persistence). Not a test.
//   throughput --target ADDR [--fills 300000 --batch 500 --streams 4 --window 8 --id_prefix t]
//       N streams, each keeping `window` batches in flight, as fast as acks come back. Prints
//       "<durable_fills> <seconds> <fills_per_s> <not_durable>": durable = acked OK with
//       DURABILITY_DATABASE; the clock runs from the first write to the last ack.
//   latency --target ADDR [--rate 10000 --batch 20 --seconds 10 --id_prefix l]
//       One stream, open loop: batch i is due at start + i*batch/rate; latency is measured from
//       that intended send time to its ack, so stalls are not hidden (no coordinated omission).
//       Prints "<p50_us> <p99_us> <p999_us> <max_us> <acked_fills_per_s> <not_durable>".
//   csv --out FILE [--fills 300000 --id_prefix t]
//       Writes the rows `throughput` stores (same ids, same columns, same body bytes) as CSV for
//       `psql \copy fills(<columns>) FROM FILE (FORMAT csv)`; prints the column list.
// Exit code 1 if any batch is refused or a stream breaks, 2 on bad flags.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "grpcpp/grpcpp.h"
#include "schema.h"
#include "tickmesh/runtime/client.h"
#include "tickmesh/v1/persistence.grpc.pb.h"

ABSL_FLAG(std::string, target, "127.0.0.1:50055", "tickmesh-persistence gRPC address");
ABSL_FLAG(int64_t, fills, 300000, "throughput/csv: fills to write");
ABSL_FLAG(int, batch, 500, "fills per AppendRequest (latency mode defaults to 20 if unset)");
ABSL_FLAG(int, streams, 4, "throughput: concurrent Append streams");
ABSL_FLAG(int, window, 8, "throughput: batches in flight per stream (server allows 16)");
ABSL_FLAG(double, rate, 10000, "latency: fills per second, paced");
ABSL_FLAG(double, seconds, 10, "latency: length of the run");
ABSL_FLAG(std::string, id_prefix, "t", "prefix of fill ids (distinct per run into one table)");
ABSL_FLAG(std::string, out, "", "csv: output file");

namespace {

using tickmesh::v1::AppendAck;
using tickmesh::v1::AppendRequest;
using Clock = std::chrono::steady_clock;

constexpr int64_t kT0 = 1700000000000000000;
const char* const kSymbols[] = {"BTC-USD", "ETH-USD",  "SOL-USD",  "XRP-USD",
                                "ADA-USD", "DOGE-USD", "AVAX-USD", "LINK-USD"};

// Fill number i of a run: realistic sizes (ids, trace with three hops), unique fill_id.
tickmesh::v1::Record MakeFill(const std::string& prefix, int64_t i) {
  tickmesh::v1::Record r;
  tickmesh::v1::Fill* f = r.mutable_fill();
  const std::string order = absl::StrCat(prefix, "-o", i / 4);
  f->set_fill_id(absl::StrCat(prefix, "-f", i));
  f->set_order_id(order);
  f->set_client_order_id("c-" + order);
  f->set_venue("sim");
  f->set_symbol(kSymbols[i % 8]);
  f->set_side(i % 2 ? tickmesh::v1::SIDE_SELL : tickmesh::v1::SIDE_BUY);
  f->set_price_e8(6500000000000 + (i % 1000) * 100000000);
  f->set_qty_e8(1000000 + i % 5000);
  f->set_fee_e8(650000);
  f->set_fee_asset("USD");
  f->set_liquidity(tickmesh::v1::LIQUIDITY_TAKER);
  f->set_unix_ns(kT0 + i * 1000);
  tickmesh::v1::Trace* t = f->mutable_trace();
  t->set_trace_id(static_cast<uint64_t>(i) * 2654435761u);
  t->set_origin_unix_ns(kT0 + i * 1000 - 900000);
  for (const char* svc : {"market-data", "signal", "execution"}) {
    auto* hop = t->add_hops();
    hop->set_service(svc);
    hop->set_stage("emit");
    hop->set_unix_ns(kT0 + i * 1000 - 100000);
  }
  return r;
}

AppendRequest MakeBatch(const std::string& prefix, int64_t first, int n, uint64_t batch_id) {
  AppendRequest req;
  req.set_batch_id(batch_id);
  for (int j = 0; j < n; ++j) *req.add_records() = MakeFill(prefix, first + j);
  return req;
}

std::unique_ptr<tickmesh::v1::PersistenceService::Stub> Stub() {
  return tickmesh::v1::PersistenceService::NewStub(
      tickmesh::runtime::MakeChannel(absl::GetFlag(FLAGS_target)));
}

int Throughput() {
  const int64_t fills = absl::GetFlag(FLAGS_fills);
  const int batch = absl::GetFlag(FLAGS_batch);
  const int streams = absl::GetFlag(FLAGS_streams);
  const int window = absl::GetFlag(FLAGS_window);
  const std::string prefix = absl::GetFlag(FLAGS_id_prefix);
  // Build every request up front so the timed part is the service, not proto construction.
  std::vector<std::vector<AppendRequest>> per_stream(streams);
  int64_t b = 0;
  for (int64_t first = 0; first < fills; first += batch, ++b) {
    const int n = static_cast<int>(std::min<int64_t>(batch, fills - first));
    per_stream[b % streams].push_back(MakeBatch(prefix, first, n, static_cast<uint64_t>(b)));
  }
  auto stub = Stub();
  std::atomic<int64_t> durable{0}, not_durable{0};
  std::atomic<bool> failed{false};
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  for (int s = 0; s < streams; ++s) {
    threads.emplace_back([&, s] {
      grpc::ClientContext ctx;
      auto rw = stub->Append(&ctx);
      const auto& mine = per_stream[s];
      size_t next = 0, outstanding = 0;
      while (next < mine.size() || outstanding > 0) {
        while (next < mine.size() && outstanding < static_cast<size_t>(window)) {
          if (!rw->Write(mine[next])) break;
          ++next;
          ++outstanding;
        }
        AppendAck ack;
        if (!rw->Read(&ack)) {
          failed = true;
          break;
        }
        --outstanding;
        if (ack.status_code() != 0) {
          std::cerr << "batch " << ack.batch_id() << " refused: " << ack.error() << "\n";
          failed = true;
        }
        (ack.status_code() == 0 && ack.durability() == tickmesh::v1::DURABILITY_DATABASE
             ? durable
             : not_durable) += ack.records();
      }
      rw->WritesDone();
      grpc::Status st = rw->Finish();
      if (!st.ok()) {
        std::cerr << "stream " << s << ": " << st.error_message() << "\n";
        failed = true;
      }
    });
  }
  for (auto& t : threads) t.join();
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("%lld %.3f %.0f %lld\n", static_cast<long long>(durable.load()), secs,
              static_cast<double>(durable.load()) / secs,
              static_cast<long long>(not_durable.load()));
  return failed ? 1 : 0;
}

int Latency(bool batch_flag_set) {
  const double rate = absl::GetFlag(FLAGS_rate);
  const int batch = batch_flag_set ? absl::GetFlag(FLAGS_batch) : 20;
  const double seconds = absl::GetFlag(FLAGS_seconds);
  const std::string prefix = absl::GetFlag(FLAGS_id_prefix);
  const int64_t batches = static_cast<int64_t>(rate * seconds / batch);
  const auto interval = std::chrono::duration<double>(batch / rate);
  std::vector<AppendRequest> requests;
  requests.reserve(batches);
  for (int64_t i = 0; i < batches; ++i) {
    requests.push_back(MakeBatch(prefix, i * batch, batch, static_cast<uint64_t>(i)));
  }
  auto stub = Stub();
  grpc::ClientContext ctx;
  auto rw = stub->Append(&ctx);
  std::vector<double> latency_us(batches, -1);
  int64_t not_durable = 0, acked = 0;
  const auto start = Clock::now() + std::chrono::milliseconds(50);
  auto due = [&](int64_t i) {
    return start + std::chrono::duration_cast<Clock::duration>(interval * static_cast<double>(i));
  };
  std::thread reader([&] {
    AppendAck ack;
    while (rw->Read(&ack)) {
      const auto now = Clock::now();
      const int64_t i = static_cast<int64_t>(ack.batch_id());
      if (i < 0 || i >= batches) continue;
      latency_us[i] = std::chrono::duration<double, std::micro>(now - due(i)).count();
      ++acked;
      if (ack.status_code() != 0 || ack.durability() != tickmesh::v1::DURABILITY_DATABASE) {
        ++not_durable;
      }
    }
  });
  for (int64_t i = 0; i < batches; ++i) {
    std::this_thread::sleep_until(due(i));
    if (!rw->Write(requests[i])) break;
  }
  rw->WritesDone();
  reader.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  grpc::Status st = rw->Finish();
  std::vector<double> got;
  for (double v : latency_us) {
    if (v >= 0) got.push_back(v);
  }
  std::sort(got.begin(), got.end());
  auto pct = [&](double q) {
    return got.empty() ? 0.0 : got[std::min(got.size() - 1, static_cast<size_t>(q * got.size()))];
  };
  std::printf("%.0f %.0f %.0f %.0f %.0f %lld\n", pct(0.50), pct(0.99), pct(0.999),
              got.empty() ? 0.0 : got.back(), static_cast<double>(acked * batch) / elapsed,
              static_cast<long long>(not_durable));
  if (!st.ok()) std::cerr << "stream: " << st.error_message() << "\n";
  return st.ok() && acked == batches && not_durable == 0 ? 0 : 1;
}

// CSV field: quoted only when needed.
std::string CsvField(const std::string& v) {
  if (v.find_first_of(",\"\n\r") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

int Csv() {
  const std::string path = absl::GetFlag(FLAGS_out);
  if (path.empty()) {
    std::cerr << "--out: required for csv\n";
    return 2;
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  const std::string prefix = absl::GetFlag(FLAGS_id_prefix);
  static const char* digits = "0123456789abcdef";
  std::string line;
  for (int64_t i = 0; i < absl::GetFlag(FLAGS_fills); ++i) {
    // Exactly the row the service stores (schema.cc RowFor); bytea as \x hex text.
    const tickmesh::persistence::SqlRow row = tickmesh::persistence::RowFor(MakeFill(prefix, i));
    line.clear();
    for (size_t c = 0; c < row.size(); ++c) {
      if (c > 0) line += ',';
      const auto& v = row[c];
      if (c + 1 == row.size()) {
        line += "\\x";
        for (unsigned char ch : std::get<std::string>(v)) {
          line += digits[ch >> 4];
          line += digits[ch & 0xf];
        }
      } else if (std::holds_alternative<int64_t>(v)) {
        line += std::to_string(std::get<int64_t>(v));
      } else if (std::holds_alternative<std::string>(v)) {
        line += CsvField(std::get<std::string>(v));
      }
    }
    line += '\n';
    out << line;
  }
  if (!out.good()) {
    std::cerr << "write " << path << " failed\n";
    return 1;
  }
  const auto& spec = tickmesh::persistence::TableFor(tickmesh::v1::Record::kFill);
  std::printf("%s\n", absl::StrJoin(spec.columns, ",").c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  const std::string mode = args.size() > 1 ? args[1] : "";
  if (absl::GetFlag(FLAGS_batch) < 1 || absl::GetFlag(FLAGS_batch) > 10000) {
    std::cerr << "--batch: must be 1..10000\n";
    return 2;
  }
  if (absl::GetFlag(FLAGS_streams) < 1 || absl::GetFlag(FLAGS_window) < 1 ||
      absl::GetFlag(FLAGS_fills) < 1 || absl::GetFlag(FLAGS_rate) <= 0 ||
      absl::GetFlag(FLAGS_seconds) <= 0) {
    std::cerr << "--streams, --window, --fills, --rate and --seconds must be positive\n";
    return 2;
  }
  if (mode == "throughput") return Throughput();
  if (mode == "latency") {
    bool batch_set = false;
    for (int i = 1; i < argc; ++i) batch_set |= std::string(argv[i]).rfind("--batch", 0) == 0;
    return Latency(batch_set);
  }
  if (mode == "csv") return Csv();
  std::cerr << "usage: tickmesh-bench-persistence throughput|latency|csv [flags] (see source)\n";
  return 2;
}
