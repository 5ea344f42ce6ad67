#include "venue_sim.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <future>
#include <thread>

#include "absl/strings/str_cat.h"
#include "binance_venue.h"
#include "bybit_venue.h"
#include "kraken_venue.h"
#include "tickmesh/runtime/log.h"

namespace tickmesh::venue_sim {

namespace asio = boost::asio;

struct SimVenue {
  venues::Venue venue;
  std::unique_ptr<Market> market;
  std::unique_ptr<VenueEndpoint> endpoint;
  std::function<void(const std::string&)> after_change;
  std::unique_ptr<PortServer> server;
};

class VenueSim::Impl {
 public:
  SimOptions options;
  asio::io_context io;
  std::vector<SimVenue> venues;
  std::thread thread;
  std::vector<std::unique_ptr<asio::steady_timer>> timers;
  bool stopped = false;

  asio::awaitable<void> Every(asio::steady_timer* timer, std::chrono::microseconds period,
                              std::function<void()> fn) {
    auto next = std::chrono::steady_clock::now();
    while (!stopped) {
      next += period;
      // Never try to catch up more than a second of missed ticks.
      auto now = std::chrono::steady_clock::now();
      if (next < now - std::chrono::seconds(1)) next = now;
      timer->expires_at(next);
      boost::system::error_code ec;
      co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (ec || stopped) co_return;
      fn();
    }
  }

  void Schedule(std::chrono::microseconds period, std::function<void()> fn) {
    timers.push_back(std::make_unique<asio::steady_timer>(io));
    asio::co_spawn(io, Every(timers.back().get(), period, std::move(fn)), asio::detached);
  }
};

VenueSim::VenueSim() : impl_(std::make_unique<Impl>()) {}

VenueSim::~VenueSim() { Stop(); }

absl::StatusOr<std::unique_ptr<VenueSim>> VenueSim::Start(SimOptions options) {
  if (options.rate <= 0 || options.rate > 100000) {
    return absl::InvalidArgumentError("rate must be in (0, 100000] updates/s per symbol");
  }
  if (options.binance_port < 0 && options.kraken_port < 0 && options.bybit_port < 0) {
    return absl::InvalidArgumentError(
        "no venue enabled (set --binance_port, --kraken_port or --bybit_port >= 0)");
  }
  if (options.accounts.empty()) return absl::InvalidArgumentError("no accounts");
  if (absl::Status st = ValidateRestLimits(options.limits); !st.ok()) return st;
  auto map = venues::SymbolMap::Create(options.symbols);
  if (!map.ok()) return map.status();
  std::unique_ptr<VenueSim> sim(new VenueSim());
  Impl& impl = *sim->impl_;
  impl.options = options;
  VenueContext ctx;
  ctx.accounts = options.accounts;
  ctx.balances_e8 = options.balances_e8;
  ctx.now_ms = &WallMs;
  struct Want {
    venues::Venue venue;
    int port;
  };
  for (Want w : {Want{venues::Venue::kBinance, options.binance_port},
                 Want{venues::Venue::kKraken, options.kraken_port},
                 Want{venues::Venue::kBybit, options.bybit_port}}) {
    if (w.port < 0) continue;
    if (w.port > 65535) return absl::InvalidArgumentError("port must be -1..65535");
    SimVenue v;
    v.venue = w.venue;
    MarketOptions mo = options.market;
    mo.seed = options.market.seed + static_cast<uint64_t>(w.venue) * 7919;
    auto market = Market::Create(options.symbols, mo);
    if (!market.ok()) return market.status();
    FeeSchedule fees = options.fees;
    fees.in_quote = w.venue == venues::Venue::kKraken;
    if (absl::Status st = (*market)->engine().SetFees(fees); !st.ok()) return st;
    v.market = *std::move(market);
    if (w.venue == venues::Venue::kBinance) {
      auto b = std::make_unique<BinanceVenue>(v.market.get(), *map, ctx);
      BinanceVenue* raw = b.get();
      v.after_change = [raw](const std::string& s) { raw->AfterChange(s); };
      v.endpoint = std::move(b);
    } else if (w.venue == venues::Venue::kBybit) {
      auto b = std::make_unique<BybitVenue>(v.market.get(), *map, ctx);
      BybitVenue* raw = b.get();
      v.after_change = [raw](const std::string& s) { raw->AfterChange(s); };
      v.endpoint = std::move(b);
    } else {
      auto k = std::make_unique<KrakenVenue>(v.market.get(), *map, ctx);
      KrakenVenue* raw = k.get();
      v.after_change = [raw](const std::string& s) { raw->AfterChange(s); };
      v.endpoint = std::move(k);
    }
    auto server =
        PortServer::Create(impl.io, options.host, w.port, v.endpoint.get(), options.faults);
    if (!server.ok()) return server.status();
    v.server = *std::move(server);
    v.server->SetLimits(std::make_unique<RestLimits>(std::string(venues::VenueName(w.venue)),
                                                     options.limits, &WallMs));
    impl.venues.push_back(std::move(v));
  }
  for (SimVenue& v : impl.venues) v.server->Start();

  // Market activity.
  const double rate = options.rate;
  const auto period =
      std::chrono::microseconds(std::max<int64_t>(1000, static_cast<int64_t>(1e6 / rate)));
  const int steps = std::max(1, static_cast<int>(rate / 1000.0));
  impl.Schedule(period, [&impl, steps] {
    const int64_t now = WallMs();
    for (SimVenue& v : impl.venues) {
      for (const std::string& s : v.market->symbols()) {
        for (int i = 0; i < steps; ++i) v.market->Step(s, now);
        v.after_change(s);
      }
    }
  });
  impl.Schedule(std::chrono::seconds(1), [&impl] {
    for (SimVenue& v : impl.venues) {
      if (auto* k = dynamic_cast<KrakenVenue*>(v.endpoint.get())) k->Heartbeat();
    }
  });
  if (options.disconnect_every_ms > 0) {
    impl.Schedule(std::chrono::milliseconds(options.disconnect_every_ms), [&impl] {
      for (SimVenue& v : impl.venues) v.server->DropWebSockets();
    });
  }
  if (options.gap_every_ms > 0) {
    impl.Schedule(std::chrono::milliseconds(options.gap_every_ms), [&impl] {
      for (SimVenue& v : impl.venues) (void)v.endpoint->InjectFault("gap", 1, "");
    });
  }
  if (options.malformed_every_ms > 0) {
    impl.Schedule(std::chrono::milliseconds(options.malformed_every_ms), [&impl] {
      for (SimVenue& v : impl.venues) (void)v.endpoint->InjectFault("malformed", 1, "");
    });
  }
  impl.thread = std::thread([&impl] { impl.io.run(); });
  return sim;
}

void VenueSim::Stop() {
  Impl& impl = *impl_;
  if (!impl.thread.joinable()) return;
  asio::post(impl.io, [&impl] {
    impl.stopped = true;
    for (auto& t : impl.timers) t->cancel();
    for (SimVenue& v : impl.venues) v.server->Close();
  });
  impl.thread.join();
}

int VenueSim::port(venues::Venue venue) const {
  for (const SimVenue& v : impl_->venues) {
    if (v.venue == venue) return v.server->port();
  }
  return -1;
}

std::string VenueSim::PortsText() const {
  std::string out;
  for (const SimVenue& v : impl_->venues) {
    absl::StrAppend(&out, std::string(venues::VenueName(v.venue)), "=", v.server->port(), "\n");
  }
  return out;
}

void VenueSim::RunOnIo(const std::function<void()>& fn) {
  if (!impl_->thread.joinable()) {
    fn();
    return;
  }
  std::promise<void> done;
  asio::post(impl_->io, [&] {
    fn();
    done.set_value();
  });
  done.get_future().wait();
}

Market* VenueSim::market(venues::Venue venue) {
  for (SimVenue& v : impl_->venues) {
    if (v.venue == venue) return v.market.get();
  }
  return nullptr;
}

VenueEndpoint* VenueSim::endpoint(venues::Venue venue) {
  for (SimVenue& v : impl_->venues) {
    if (v.venue == venue) return v.endpoint.get();
  }
  return nullptr;
}

}  // namespace tickmesh::venue_sim
