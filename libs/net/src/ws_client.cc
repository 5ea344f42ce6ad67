// WsClient over Boost.Beast: one io_context and one thread per client; the connection life cycle
// (connect, run, backoff) is a C++20 coroutine on that thread, with a writer and a ticker
// coroutine per open connection that are joined before the connection's stream is destroyed.
#include "tickmesh/net/ws_client.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <chrono>
#include <deque>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "tickmesh/net/url.h"

namespace tickmesh::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

namespace {

int64_t WallNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

SteadyClock::duration ToChrono(absl::Duration d) { return absl::ToChronoNanoseconds(d); }

// Maps a Beast/Asio/OpenSSL error to the status on_disconnect reports.
absl::Status StatusFromError(const beast::error_code& ec, const std::string& what) {
  if (ec == websocket::error::message_too_big || ec == beast::http::error::body_limit ||
      ec == beast::http::error::header_limit || ec == websocket::error::buffer_overflow) {
    return absl::ResourceExhaustedError(absl::StrCat(what, ": ", ec.message()));
  }
  if (ec == beast::error::timeout) {
    return absl::DeadlineExceededError(absl::StrCat(what, ": timed out"));
  }
  if (ec.category() == asio::error::get_ssl_category() &&
      ERR_GET_REASON(ec.value()) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
    return absl::UnauthenticatedError(absl::StrCat(what, ": ", ec.message()));
  }
  if (ec == websocket::error::closed) {
    return absl::UnavailableError(absl::StrCat(what, ": closed by peer"));
  }
  return absl::UnavailableError(absl::StrCat(what, ": ", ec.message()));
}

}  // namespace

std::string_view WsStateName(WsState state) {
  switch (state) {
    case WsState::kIdle:
      return "idle";
    case WsState::kConnecting:
      return "connecting";
    case WsState::kOpen:
      return "open";
    case WsState::kBackoff:
      return "backoff";
    case WsState::kStopped:
      return "stopped";
  }
  return "unknown";
}

class WsClient::Impl {
 public:
  Impl(const WsOptions& options, WsHandlers handlers)
      : options_(options),
        handlers_(std::move(handlers)),
        backoff_timer_(io_),
        attempt_timer_(io_),
        wake_timer_(io_),
        ticker_timer_(io_),
        join_timer_(io_),
        rng_(std::random_device{}()) {}

  absl::Status Start() {
    if (started_) {
      return absl::FailedPreconditionError(
          absl::StrCat("ws ", options_.name, ": Start() called twice or after Stop()"));
    }
    absl::StatusOr<Url> url = ParseUrl(options_.url);
    if (!url.ok()) return url.status();
    if (url->scheme != "ws" && url->scheme != "wss") {
      return absl::InvalidArgumentError(
          absl::StrCat("ws ", options_.name, ": url must be ws:// or wss://"));
    }
    if (options_.connect_timeout <= absl::ZeroDuration() ||
        options_.backoff_initial <= absl::ZeroDuration() ||
        options_.backoff_max < options_.backoff_initial || options_.max_frame_bytes == 0 ||
        options_.max_send_queue == 0 || options_.idle_timeout < absl::ZeroDuration() ||
        options_.ping_interval < absl::ZeroDuration()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "ws ", options_.name,
          ": connect_timeout and backoff_initial must be > 0, backoff_max >= backoff_initial, "
          "max_frame_bytes and max_send_queue > 0, intervals >= 0"));
    }
    url_ = *std::move(url);
    started_ = true;
    if (url_.tls) {
      try {
        ssl_ctx_.emplace(ssl::context::tls_client);
        if (options_.tls_verify) {
          ssl_ctx_->set_verify_mode(ssl::verify_peer);
          if (!options_.ca_file.empty()) {
            ssl_ctx_->load_verify_file(options_.ca_file);
          } else {
            ssl_ctx_->set_default_verify_paths();
          }
        } else {
          ssl_ctx_->set_verify_mode(ssl::verify_none);
        }
      } catch (const std::exception& e) {
        return absl::InvalidArgumentError(
            absl::StrCat("ws ", options_.name, ": TLS setup failed: ", e.what()));
      }
    }
    {
      absl::MutexLock l(&mu_);
      state_ = WsState::kConnecting;
    }
    asio::co_spawn(io_, Main(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
    return absl::OkStatus();
  }

  void Stop() {
    std::lock_guard<std::mutex> stop_lock(stop_mu_);
    started_ = true;  // a stopped client cannot be started
    if (!thread_.joinable()) {
      absl::MutexLock l(&mu_);
      state_ = WsState::kStopped;
      return;
    }
    if (std::this_thread::get_id() == thread_.get_id()) {
      RequestStop();  // on the io thread already: cannot join ourselves
      return;
    }
    asio::post(io_, [this] { RequestStop(); });
    thread_.join();
    absl::MutexLock l(&mu_);
    state_ = WsState::kStopped;
    open_ = false;
    stats_.send_dropped += queue_.size();
    queue_.clear();
  }

  bool Send(std::string frame) {
    {
      absl::MutexLock l(&mu_);
      if (!open_ || queue_.size() >= options_.max_send_queue) {
        ++stats_.send_dropped;
        return false;
      }
      queue_.push_back(std::move(frame));
    }
    asio::post(io_, [this] { wake_timer_.cancel(); });
    return true;
  }

  void Reconnect(std::string reason) {
    {
      absl::MutexLock l(&mu_);
      if (state_ == WsState::kIdle || state_ == WsState::kStopped) return;
    }
    asio::post(io_, [this, reason = std::move(reason)] {
      if (stop_) return;
      skip_backoff_ = true;  // the next attempt starts at once, not after a backoff
      if (abort_) {
        pending_reason_ = absl::CancelledError(absl::StrCat("reconnect requested: ", reason));
        abort_();
      } else {
        backoff_timer_.cancel();
      }
    });
  }

  WsState state() const {
    absl::MutexLock l(&mu_);
    return state_;
  }

  WsStats Stats() const {
    absl::MutexLock l(&mu_);
    return stats_;
  }

  ~Impl() { Stop(); }

 private:
  // io thread: ends the life-cycle coroutine as soon as possible.
  void RequestStop() {
    if (stop_) return;
    stop_ = true;
    if (abort_) {
      pending_reason_ = absl::CancelledError("client stopped");
      abort_();
    }
    backoff_timer_.cancel();
    attempt_timer_.cancel();
  }

  void SetState(WsState s) {
    absl::MutexLock l(&mu_);
    if (state_ != WsState::kStopped) state_ = s;
  }

  void ReportDisconnect(const absl::Status& why) {
    {
      absl::MutexLock l(&mu_);
      stats_.last_error = std::string(why.message());
    }
    if (handlers_.on_disconnect) handlers_.on_disconnect(why);
  }

  SteadyClock::duration NextBackoff() {
    double base = absl::ToDoubleSeconds(options_.backoff_initial);
    double cap = absl::ToDoubleSeconds(options_.backoff_max);
    double d = base;
    for (int i = 1; i < failures_ && d < cap; ++i) d *= 2;
    d = std::min(d, cap);
    double jitter = std::clamp(options_.backoff_jitter, 0.0, 1.0);
    std::uniform_real_distribution<double> dist(d * (1.0 - jitter), d);
    return std::chrono::duration_cast<SteadyClock::duration>(
        std::chrono::duration<double>(dist(rng_)));
  }

  // The life cycle: connect, run, back off, until stopped.
  asio::awaitable<void> Main() {
    while (!stop_) {
      SetState(WsState::kConnecting);
      pending_reason_ = absl::OkStatus();
      SteadyClock::time_point opened_at{};
      bool opened = false;
      absl::Status why;
      try {
        if (url_.tls) {
          why = co_await RunTls(&opened, &opened_at);
        } else {
          why = co_await RunPlain(&opened, &opened_at);
        }
      } catch (const std::exception& e) {
        why = absl::InternalError(absl::StrCat("ws ", options_.name, ": ", e.what()));
      }
      abort_ = nullptr;
      if (opened && SteadyClock::now() - opened_at >= ToChrono(options_.backoff_reset_after)) {
        failures_ = 0;
      }
      ++failures_;
      if (!opened) {
        absl::MutexLock l(&mu_);
        ++stats_.connect_failures;
      }
      ReportDisconnect(why);
      if (stop_) break;
      if (skip_backoff_) {
        skip_backoff_ = false;
        continue;
      }
      SetState(WsState::kBackoff);
      backoff_timer_.expires_after(NextBackoff());
      beast::error_code ec;
      co_await backoff_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      skip_backoff_ = false;
    }
    SetState(WsState::kStopped);
  }

  // Arms the connect deadline; when it fires during the attempt the attempt is aborted.
  void ArmAttemptDeadline() {
    attempt_timer_.expires_after(ToChrono(options_.connect_timeout));
    attempt_timer_.async_wait([this, gen = ++attempt_gen_](const beast::error_code& ec) {
      if (ec || gen != attempt_gen_ || !attempt_in_progress_) return;
      pending_reason_ = absl::DeadlineExceededError(
          absl::StrCat("ws ", options_.name, ": connect/handshake took longer than ",
                       absl::FormatDuration(options_.connect_timeout)));
      if (abort_) abort_();
    });
    attempt_in_progress_ = true;
  }

  void DisarmAttemptDeadline() {
    attempt_in_progress_ = false;
    ++attempt_gen_;
    attempt_timer_.cancel();
  }

  absl::Status AttemptError(const beast::error_code& ec, std::string_view step) {
    if (!pending_reason_.ok()) return pending_reason_;
    return StatusFromError(ec, absl::StrCat("ws ", options_.name, " ", std::string(step)));
  }

  template <class Ws>
  void ConfigureWs(Ws& ws) {
    websocket::stream_base::timeout t{};
    t.handshake_timeout = ToChrono(options_.connect_timeout);
    t.idle_timeout = websocket::stream_base::none();
    t.keep_alive_pings = false;
    ws.set_option(t);
    ws.read_message_max(options_.max_frame_bytes);
    auto headers = options_.headers;
    ws.set_option(websocket::stream_base::decorator([headers](websocket::request_type& req) {
      req.set(beast::http::field::user_agent, "tickmesh-net");
      for (const auto& [k, v] : headers) req.set(k, v);
    }));
  }

  asio::awaitable<absl::Status> Resolve(tcp::resolver::results_type* out) {
    tcp::resolver resolver(io_);
    abort_ = [&resolver] { resolver.cancel(); };
    beast::error_code ec;
    *out = co_await resolver.async_resolve(url_.host, std::to_string(url_.port),
                                           asio::redirect_error(asio::use_awaitable, ec));
    abort_ = nullptr;
    if (ec || !pending_reason_.ok()) co_return AttemptError(ec, "resolve");
    co_return absl::OkStatus();
  }

  asio::awaitable<absl::Status> RunPlain(bool* opened, SteadyClock::time_point* opened_at) {
    ArmAttemptDeadline();
    tcp::resolver::results_type endpoints;
    absl::Status s = co_await Resolve(&endpoints);
    if (!s.ok()) {
      DisarmAttemptDeadline();
      co_return s;
    }
    websocket::stream<beast::tcp_stream> ws(io_);
    abort_ = [&ws] { beast::get_lowest_layer(ws).socket().close(); };
    beast::error_code ec;
    co_await beast::get_lowest_layer(ws).async_connect(
        endpoints, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !pending_reason_.ok()) {
      DisarmAttemptDeadline();
      co_return AttemptError(ec, "connect");
    }
    beast::get_lowest_layer(ws).socket().set_option(tcp::no_delay(true), ec);
    ConfigureWs(ws);
    co_await ws.async_handshake(url_.HostHeader(), url_.target,
                                asio::redirect_error(asio::use_awaitable, ec));
    DisarmAttemptDeadline();
    if (ec || !pending_reason_.ok()) co_return AttemptError(ec, "handshake");
    *opened = true;
    *opened_at = SteadyClock::now();
    co_return co_await RunConnected(ws);
  }

  asio::awaitable<absl::Status> RunTls(bool* opened, SteadyClock::time_point* opened_at) {
    ArmAttemptDeadline();
    tcp::resolver::results_type endpoints;
    absl::Status s = co_await Resolve(&endpoints);
    if (!s.ok()) {
      DisarmAttemptDeadline();
      co_return s;
    }
    websocket::stream<beast::ssl_stream<beast::tcp_stream>> ws(io_, *ssl_ctx_);
    abort_ = [&ws] { beast::get_lowest_layer(ws).socket().close(); };
    SSL* native = ws.next_layer().native_handle();
    // SNI for host names (not IP literals); name or IP verification when verifying.
    beast::error_code ec;
    asio::ip::make_address(url_.host, ec);
    const bool is_ip = !ec;
    ec = {};
    if (!is_ip) SSL_set_tlsext_host_name(native, url_.host.c_str());
    if (options_.tls_verify) {
      X509_VERIFY_PARAM* param = SSL_get0_param(native);
      if (is_ip) {
        X509_VERIFY_PARAM_set1_ip_asc(param, url_.host.c_str());
      } else {
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        X509_VERIFY_PARAM_set1_host(param, url_.host.c_str(), url_.host.size());
      }
    }
    co_await beast::get_lowest_layer(ws).async_connect(
        endpoints, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !pending_reason_.ok()) {
      DisarmAttemptDeadline();
      co_return AttemptError(ec, "connect");
    }
    beast::get_lowest_layer(ws).socket().set_option(tcp::no_delay(true), ec);
    co_await ws.next_layer().async_handshake(ssl::stream_base::client,
                                             asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !pending_reason_.ok()) {
      DisarmAttemptDeadline();
      co_return AttemptError(ec, "tls handshake");
    }
    ConfigureWs(ws);
    co_await ws.async_handshake(url_.HostHeader(), url_.target,
                                asio::redirect_error(asio::use_awaitable, ec));
    DisarmAttemptDeadline();
    if (ec || !pending_reason_.ok()) co_return AttemptError(ec, "handshake");
    *opened = true;
    *opened_at = SteadyClock::now();
    co_return co_await RunConnected(ws);
  }

  // One open connection: queue the on_open frames, start writer + ticker, read until error,
  // then join the helpers so `ws` can be destroyed safely.
  template <class Ws>
  asio::awaitable<absl::Status> RunConnected(Ws& ws) {
    const uint64_t conn = ++conn_id_;
    std::vector<std::string> open_frames;
    if (handlers_.on_open) open_frames = handlers_.on_open();
    {
      absl::MutexLock l(&mu_);
      ++stats_.connects;
      if (stats_.connects > 1) ++stats_.reconnects;
      stats_.send_dropped += queue_.size();
      queue_.clear();
      for (auto& f : open_frames) queue_.push_back(std::move(f));
      open_ = true;
      if (state_ != WsState::kStopped) state_ = WsState::kOpen;
    }
    last_frame_ = SteadyClock::now();
    ping_due_ = false;
    helpers_ = 2;
    abort_ = [this, &ws] {
      beast::error_code ignored;
      beast::get_lowest_layer(ws).socket().shutdown(tcp::socket::shutdown_both, ignored);
      beast::get_lowest_layer(ws).socket().close(ignored);
      wake_timer_.cancel();
      ticker_timer_.cancel();
    };
    if (stop_) abort_();
    asio::co_spawn(io_, WriteLoop(ws, conn), asio::detached);
    asio::co_spawn(io_, Ticker(conn), asio::detached);

    absl::Status why;
    beast::flat_buffer buffer;
    while (true) {
      beast::error_code ec;
      co_await ws.async_read(buffer, asio::redirect_error(asio::use_awaitable, ec));
      if (ec || !pending_reason_.ok()) {
        if (!pending_reason_.ok()) {
          why = pending_reason_;
        } else {
          why = StatusFromError(ec, absl::StrCat("ws ", options_.name, " read"));
          if (ec == websocket::error::message_too_big) {
            absl::MutexLock l(&mu_);
            ++stats_.oversize_frames;
          }
        }
        break;
      }
      last_frame_ = SteadyClock::now();
      const int64_t recv_ns = WallNs();
      const size_t n = buffer.size();
      {
        absl::MutexLock l(&mu_);
        ++stats_.frames_in;
        stats_.bytes_in += n;
      }
      if (handlers_.on_frame) {
        auto data = buffer.data();
        handlers_.on_frame(std::string_view(static_cast<const char*>(data.data()), data.size()),
                           recv_ns);
      }
      buffer.consume(n);
    }
    // Tear down: no more sends accepted, helpers exit, then the stream goes away.
    {
      absl::MutexLock l(&mu_);
      open_ = false;
      stats_.send_dropped += queue_.size();
      queue_.clear();
    }
    ++conn_id_;
    (void)conn;
    abort_();
    while (helpers_ > 0) {
      join_timer_.expires_after(std::chrono::seconds(5));
      beast::error_code ec;
      co_await join_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    abort_ = nullptr;
    co_return why;
  }

  void HelperDone() {
    --helpers_;
    join_timer_.cancel();
  }

  // Writes queued text frames and due control pings, one at a time.
  template <class Ws>
  asio::awaitable<void> WriteLoop(Ws& ws, uint64_t conn) {
    while (conn == conn_id_) {
      beast::error_code ec;
      if (ping_due_) {
        ping_due_ = false;
        co_await ws.async_ping({}, asio::redirect_error(asio::use_awaitable, ec));
      } else {
        std::optional<std::string> frame;
        {
          absl::MutexLock l(&mu_);
          if (!queue_.empty()) {
            frame = std::move(queue_.front());
            queue_.pop_front();
          }
        }
        if (!frame) {
          wake_timer_.expires_at(SteadyClock::time_point::max());
          co_await wake_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
          continue;
        }
        ws.text(true);
        co_await ws.async_write(asio::buffer(*frame),
                                asio::redirect_error(asio::use_awaitable, ec));
        if (!ec) {
          absl::MutexLock l(&mu_);
          ++stats_.frames_out;
        }
      }
      if (ec) {
        if (conn == conn_id_ && pending_reason_.ok()) {
          pending_reason_ = StatusFromError(ec, absl::StrCat("ws ", options_.name, " write"));
          if (abort_) abort_();
        }
        break;
      }
    }
    HelperDone();
  }

  // Idle detection and heartbeats for one connection.
  asio::awaitable<void> Ticker(uint64_t conn) {
    auto tick = std::chrono::duration_cast<SteadyClock::duration>(std::chrono::seconds(1));
    const bool idle_on = options_.idle_timeout > absl::ZeroDuration();
    const bool ping_on = options_.ping_interval > absl::ZeroDuration();
    const bool app_on =
        !options_.app_ping_frame.empty() && options_.app_ping_interval > absl::ZeroDuration();
    if (idle_on) tick = std::min(tick, ToChrono(options_.idle_timeout) / 4);
    if (ping_on) tick = std::min(tick, ToChrono(options_.ping_interval));
    if (app_on) tick = std::min(tick, ToChrono(options_.app_ping_interval));
    tick = std::max(tick, SteadyClock::duration(std::chrono::milliseconds(5)));
    auto next_ping = SteadyClock::now() + ToChrono(options_.ping_interval);
    auto next_app = SteadyClock::now() + ToChrono(options_.app_ping_interval);
    while (conn == conn_id_) {
      ticker_timer_.expires_after(tick);
      beast::error_code ec;
      co_await ticker_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (conn != conn_id_) break;
      const auto now = SteadyClock::now();
      if (idle_on && now - last_frame_ > ToChrono(options_.idle_timeout)) {
        {
          absl::MutexLock l(&mu_);
          ++stats_.idle_timeouts;
        }
        if (pending_reason_.ok()) {
          pending_reason_ = absl::DeadlineExceededError(
              absl::StrCat("ws ", options_.name, ": no frame for ",
                           absl::FormatDuration(options_.idle_timeout)));
        }
        if (abort_) abort_();
        break;
      }
      bool wake = false;
      if (ping_on && now >= next_ping) {
        ping_due_ = true;
        next_ping = now + ToChrono(options_.ping_interval);
        wake = true;
      }
      if (app_on && now >= next_app) {
        next_app = now + ToChrono(options_.app_ping_interval);
        absl::MutexLock l(&mu_);
        if (queue_.size() < options_.max_send_queue) {
          queue_.push_back(options_.app_ping_frame);
          wake = true;
        } else {
          ++stats_.send_dropped;
        }
      }
      if (wake) wake_timer_.cancel();
    }
    HelperDone();
  }

  const WsOptions options_;
  const WsHandlers handlers_;
  Url url_;
  std::atomic<bool> started_{false};
  std::mutex stop_mu_;  // serialises Stop() callers around thread_
  asio::io_context io_;
  std::optional<ssl::context> ssl_ctx_;
  std::thread thread_;

  // io-thread only.
  asio::steady_timer backoff_timer_;
  asio::steady_timer attempt_timer_;
  asio::steady_timer wake_timer_;
  asio::steady_timer ticker_timer_;
  asio::steady_timer join_timer_;
  std::function<void()> abort_;
  absl::Status pending_reason_;
  bool stop_ = false;
  bool skip_backoff_ = false;
  bool attempt_in_progress_ = false;
  uint64_t attempt_gen_ = 0;
  uint64_t conn_id_ = 0;
  int helpers_ = 0;
  bool ping_due_ = false;
  int failures_ = 0;
  SteadyClock::time_point last_frame_{};
  std::mt19937_64 rng_;

  mutable absl::Mutex mu_;
  WsState state_ ABSL_GUARDED_BY(mu_) = WsState::kIdle;
  WsStats stats_ ABSL_GUARDED_BY(mu_);
  std::deque<std::string> queue_ ABSL_GUARDED_BY(mu_);
  bool open_ ABSL_GUARDED_BY(mu_) = false;
};

WsClient::WsClient(WsOptions options, WsHandlers handlers)
    : options_(std::move(options)), impl_(std::make_unique<Impl>(options_, std::move(handlers))) {}

WsClient::~WsClient() { impl_->Stop(); }

absl::Status WsClient::Start() { return impl_->Start(); }
void WsClient::Stop() { impl_->Stop(); }
bool WsClient::Send(std::string frame) { return impl_->Send(std::move(frame)); }
void WsClient::Reconnect(std::string reason) { impl_->Reconnect(std::move(reason)); }
WsState WsClient::state() const { return impl_->state(); }
WsStats WsClient::Stats() const { return impl_->Stats(); }

}  // namespace tickmesh::net
