#include "port_server.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "rest_limits.h"
#include "tickmesh/runtime/log.h"

namespace tickmesh::venue_sim {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;
using tcp = boost::asio::ip::tcp;

std::string RestRequest::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (absl::EqualsIgnoreCase(k, absl::string_view(name.data(), name.size()))) return v;
  }
  return "";
}

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string UrlDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 &&
               HexValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

constexpr size_t kMaxWsQueue = 20000;

std::string JsonEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> ParseForm(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t pos = 0;
  while (pos <= text.size() && !text.empty()) {
    size_t amp = text.find('&', pos);
    std::string_view part =
        text.substr(pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos);
    if (!part.empty()) {
      size_t eq = part.find('=');
      if (eq == std::string_view::npos) {
        out.emplace_back(UrlDecode(part), "");
      } else {
        out.emplace_back(UrlDecode(part.substr(0, eq)), UrlDecode(part.substr(eq + 1)));
      }
    }
    if (amp == std::string_view::npos) break;
    pos = amp + 1;
  }
  return out;
}

const std::string* FormValue(const std::vector<std::pair<std::string, std::string>>& form,
                             std::string_view key) {
  for (const auto& [k, v] : form) {
    if (k == key) return &v;
  }
  return nullptr;
}

class PortServer::Impl {
 public:
  Impl(asio::io_context& io, VenueEndpoint* venue) : io_(io), acceptor_(io), venue_(venue) {}

  class WsSession : public WsConn, public std::enable_shared_from_this<WsSession> {
   public:
    WsSession(Impl* owner, tcp::socket socket, uint64_t id, std::string target)
        : owner_(owner),
          ws_(std::move(socket)),
          wake_(ws_.get_executor()),
          id_(id),
          target_(std::move(target)) {}
    uint64_t id() const override { return id_; }
    const std::string& target() const override { return target_; }
    void Send(std::string frame) override {
      if (closed_) return;
      if (queue_.size() >= kMaxWsQueue) {
        runtime::WarnOnce("venue_sim_slow_ws", "closing a WebSocket client that does not read",
                          {{"venue", std::string(owner_->venue_->name())}});
        Close();
        return;
      }
      queue_.push_back(std::move(frame));
      wake_.cancel();
    }
    void Close() override {
      if (closed_) return;
      closed_ = true;
      beast::error_code ec;
      beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ec);
      beast::get_lowest_layer(ws_).socket().close(ec);
      wake_.cancel();
    }

    asio::awaitable<void> Run(http::request<http::string_body> req) {
      auto self = shared_from_this();
      beast::error_code ec;
      ws_.read_message_max(1 << 20);
      ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
        res.set(http::field::server, "tickmesh-venue-sim");
      }));
      co_await ws_.async_accept(req, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      owner_->ws_[id_] = self;
      owner_->venue_->OnWsOpen(self);
      asio::co_spawn(ws_.get_executor(), Writer(self), asio::detached);
      beast::flat_buffer buf;
      while (!closed_) {
        co_await ws_.async_read(buf, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) break;
        auto data = buf.data();
        owner_->venue_->OnWsFrame(
            self, std::string_view(static_cast<const char*>(data.data()), data.size()));
        buf.consume(buf.size());
      }
      Close();
      owner_->ws_.erase(id_);
      owner_->venue_->OnWsClose(id_);
    }

   private:
    asio::awaitable<void> Writer(std::shared_ptr<WsSession> self) {
      while (!closed_) {
        beast::error_code ec;
        if (queue_.empty()) {
          wake_.expires_at(std::chrono::steady_clock::time_point::max());
          co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
          continue;
        }
        std::string frame = std::move(queue_.front());
        queue_.pop_front();
        ws_.text(true);
        co_await ws_.async_write(asio::buffer(frame),
                                 asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
          Close();
          break;
        }
      }
    }

    Impl* owner_;
    websocket::stream<beast::tcp_stream> ws_;
    asio::steady_timer wake_;
    uint64_t id_;
    std::string target_;
    std::deque<std::string> queue_;
    bool closed_ = false;
  };

  asio::awaitable<void> Accept() {
    while (open_) {
      beast::error_code ec;
      tcp::socket socket(io_);
      co_await acceptor_.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (!open_ || ec == asio::error::operation_aborted) co_return;
        continue;
      }
      socket.set_option(tcp::no_delay(true), ec);
      asio::co_spawn(io_, HttpSession(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> HttpSession(tcp::socket socket) {
    const uint64_t id = ++next_id_;
    beast::tcp_stream stream(std::move(socket));
    http_[id] = &stream;
    beast::flat_buffer buf;
    while (open_) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(1 << 20);
      parser.header_limit(64 << 10);
      stream.expires_after(std::chrono::seconds(300));
      beast::error_code ec;
      co_await http::async_read(stream, buf, parser, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      http::request<http::string_body> req = parser.release();
      std::string target(req.target());
      if (websocket::is_upgrade(req)) {
        if (!venue_->AcceptsWs(target)) {
          http::response<http::string_body> res{http::status::not_found, req.version()};
          res.set(http::field::content_type, "text/plain");
          res.body() = "no WebSocket endpoint at this path\n";
          res.prepare_payload();
          co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
          break;
        }
        http_.erase(id);
        stream.expires_never();
        auto session = std::make_shared<WsSession>(this, stream.release_socket(), id, target);
        co_await session->Run(std::move(req));
        co_return;
      }
      RestRequest r;
      r.method = std::string(req.method_string());
      size_t q = target.find('?');
      r.path = target.substr(0, q);
      if (q != std::string::npos) r.query = target.substr(q + 1);
      r.body = std::move(req.body());
      for (const auto& field : req) {
        r.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
      }
      RestReply reply = Route(r);
      if (owner_->faults_.latency_ms > 0 && r.path.rfind("/sim/", 0) != 0) {
        asio::steady_timer delay(io_);
        delay.expires_after(std::chrono::milliseconds(owner_->faults_.latency_ms));
        co_await delay.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      }
      http::response<http::string_body> res{static_cast<http::status>(reply.status), req.version()};
      res.set(http::field::server, "tickmesh-venue-sim");
      res.set(http::field::content_type, reply.content_type);
      for (const auto& [k, v] : reply.headers) res.set(k, v);
      res.body() = std::move(reply.body);
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
      if (ec || !res.keep_alive()) break;
    }
    http_.erase(id);
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream.socket().close(ignored);
  }

  RestReply Route(const RestRequest& r) {
    if (r.path == "/sim/fault") return Fault(r);
    if (r.path == "/sim/state") {
      return {200, absl::StrCat(
                       "{\"venue\":\"", venue_->name(), "\",\"ws_connections\":", ws_.size(),
                       ",\"rest_requests\":", owner_->rest_requests_,
                       ",\"rate_limit_remaining\":", owner_->faults_.rate_limit_remaining,
                       ",\"latency_ms\":", owner_->faults_.latency_ms,
                       ",\"limit_refusals\":", owner_->limits_ ? owner_->limits_->refusals() : 0,
                       ",", venue_->StateJson(), "}")};
    }
    if (r.path.rfind("/sim/", 0) != 0) {
      ++owner_->rest_requests_;
      RestReply reply = Limited(r);
      if (owner_->limits_) owner_->limits_->Decorate(r, &reply);
      return reply;
    }
    return venue_->HandleRest(r);
  }

  // A venue REST request through the injected faults and the venue's rate limits.
  RestReply Limited(const RestRequest& r) {
    PortFaults& f = owner_->faults_;
    if (f.rate_limit_remaining > 0) {
      --f.rate_limit_remaining;
      return venue_->RateLimitReply();
    }
    if (f.rate_limit_every > 0 && owner_->rest_requests_ % f.rate_limit_every == 0) {
      return venue_->RateLimitReply();
    }
    if (owner_->limits_) {
      if (auto refused = owner_->limits_->Charge(r)) return std::move(*refused);
    }
    return venue_->HandleRest(r);
  }

  RestReply Fault(const RestRequest& r) {
    auto bad = [](std::string msg) {
      return RestReply{400, absl::StrCat("{\"ok\":false,\"error\":\"", JsonEscape(msg), "\"}")};
    };
    if (r.method != "POST") return bad("use POST /sim/fault?kind=...");
    auto form = ParseForm(r.query);
    for (auto& kv : ParseForm(r.body)) form.push_back(std::move(kv));
    const std::string* kind = FormValue(form, "kind");
    if (kind == nullptr) return bad("missing kind");
    auto number = [&](std::string_view key, int64_t def, int64_t* out) {
      const std::string* v = FormValue(form, key);
      if (v == nullptr) {
        *out = def;
        return true;
      }
      return absl::SimpleAtoi(*v, out) && *out >= 0;
    };
    int64_t count = 1, ms = 0, every = 0;
    if (!number("count", 1, &count) || !number("ms", 0, &ms) || !number("every", 0, &every)) {
      return bad("count, ms and every must be non-negative integers");
    }
    const std::string* symbol_p = FormValue(form, "symbol");
    std::string symbol = symbol_p == nullptr ? "" : *symbol_p;
    int64_t affected = 0;
    PortFaults& f = owner_->faults_;
    if (*kind == "disconnect") {
      affected = owner_->DropWebSockets();
    } else if (*kind == "rate_limit") {
      f.rate_limit_remaining = count;
      f.rate_limit_every = every;
      affected = count;
    } else if (*kind == "slow") {
      f.latency_ms = ms;
      affected = ms;
    } else if (*kind == "clear") {
      f = PortFaults{};
    } else {
      absl::Status s = venue_->InjectFault(*kind, count, symbol);
      if (!s.ok()) return bad(std::string(s.message()));
      affected = count;
    }
    runtime::LogInfo(
        "fault injected",
        {{"venue", std::string(venue_->name())}, {"kind", *kind}, {"count", count}, {"ms", ms}});
    return {200, absl::StrCat("{\"ok\":true,\"kind\":\"", JsonEscape(*kind),
                              "\",\"affected\":", affected, "}")};
  }

  void Close() {
    open_ = false;
    beast::error_code ec;
    acceptor_.close(ec);
    for (auto& [id, stream] : http_) {
      stream->socket().shutdown(tcp::socket::shutdown_both, ec);
      stream->socket().close(ec);
    }
    std::vector<std::shared_ptr<WsConn>> conns;
    for (auto& [id, w] : ws_) {
      if (auto c = w.lock()) conns.push_back(c);
    }
    for (auto& c : conns) c->Close();
  }

  asio::io_context& io_;
  tcp::acceptor acceptor_;
  VenueEndpoint* venue_;
  PortServer* owner_ = nullptr;
  bool open_ = true;
  uint64_t next_id_ = 0;
  std::map<uint64_t, beast::tcp_stream*> http_;
  std::map<uint64_t, std::weak_ptr<WsSession>> ws_;
};

absl::StatusOr<std::unique_ptr<PortServer>> PortServer::Create(asio::io_context& io,
                                                               const std::string& host, int port,
                                                               VenueEndpoint* venue,
                                                               PortFaults faults) {
  auto impl = std::make_unique<Impl>(io, venue);
  beast::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("bad listen host ", host));
  tcp::endpoint ep(address, static_cast<uint16_t>(port));
  impl->acceptor_.open(ep.protocol(), ec);
  if (!ec) impl->acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor_.bind(ep, ec);
  if (!ec) impl->acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat(venue->name(), ": cannot listen on ", host, ":", port, ": ", ec.message()));
  }
  int bound = impl->acceptor_.local_endpoint().port();
  auto server =
      std::unique_ptr<PortServer>(new PortServer(std::move(impl), bound, std::move(faults)));
  server->impl_->owner_ = server.get();
  return server;
}

PortServer::PortServer(std::unique_ptr<Impl> impl, int port, PortFaults faults)
    : impl_(std::move(impl)), port_(port), faults_(faults) {}

PortServer::~PortServer() = default;

void PortServer::SetLimits(std::unique_ptr<RestLimits> limits) { limits_ = std::move(limits); }

void PortServer::Start() { asio::co_spawn(impl_->io_, impl_->Accept(), asio::detached); }

void PortServer::Close() { impl_->Close(); }

int PortServer::DropWebSockets() {
  std::vector<std::shared_ptr<WsConn>> conns;
  for (auto& [id, w] : impl_->ws_) {
    if (auto c = w.lock()) conns.push_back(c);
  }
  for (auto& c : conns) c->Close();
  return static_cast<int>(conns.size());
}

size_t PortServer::ws_connections() const { return impl_->ws_.size(); }

}  // namespace tickmesh::venue_sim
