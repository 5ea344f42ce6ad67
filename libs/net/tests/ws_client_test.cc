// WsClient against a small Boost.Beast WebSocket server on loopback (port 0).
#include "tickmesh/net/ws_client.h"

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace tickmesh::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using tcp = boost::asio::ip::tcp;

// Polls `pred` every 5 ms for up to 5 s.
bool WaitFor(const std::function<bool()>& pred,
             std::chrono::milliseconds limit = std::chrono::milliseconds(5000)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return pred();
}

// A port nothing listens on: bind, read the port, close.
int UnusedPort() {
  asio::io_context io;
  tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  int port = a.local_endpoint().port();
  a.close();
  return port;
}

// WebSocket server: records text frames it receives, answers "echo:<x>" with "<x>", counts
// control pings, and lets the test broadcast frames or drop every connection.
class TestWsServer {
 public:
  TestWsServer() : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(io_, Accept(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~TestWsServer() {
    asio::post(io_, [this] {
      beast::error_code ec;
      acceptor_.close(ec);
      CloseAll();
    });
    thread_.join();
  }

  int port() const { return port_; }
  int accepted() const { return accepted_.load(); }
  int pings() const { return pings_.load(); }
  std::vector<std::string> received() {
    std::lock_guard<std::mutex> l(mu_);
    return received_;
  }
  int CountReceived(const std::string& frame) {
    std::lock_guard<std::mutex> l(mu_);
    int n = 0;
    for (const auto& f : received_) n += f == frame;
    return n;
  }
  void Broadcast(std::string frame) {
    asio::post(io_, [this, frame = std::move(frame)] {
      for (auto& ws : sessions_) {
        beast::error_code ec;
        ws->text(true);
        ws->write(asio::buffer(frame), ec);
      }
    });
  }
  void DropAll() {
    asio::post(io_, [this] { CloseAll(); });
  }

 private:
  using Ws = websocket::stream<beast::tcp_stream>;

  void CloseAll() {
    for (auto& ws : sessions_) {
      beast::error_code ec;
      beast::get_lowest_layer(*ws).socket().close(ec);
    }
    sessions_.clear();
  }

  asio::awaitable<void> Accept() {
    while (true) {
      beast::error_code ec;
      tcp::socket s(io_);
      co_await acceptor_.async_accept(s, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      asio::co_spawn(io_, Session(std::move(s)), asio::detached);
    }
  }

  asio::awaitable<void> Session(tcp::socket s) {
    auto ws = std::make_shared<Ws>(std::move(s));
    ws->read_message_max(1 << 20);
    ws->control_callback([this](websocket::frame_type kind, beast::string_view) {
      if (kind == websocket::frame_type::ping) ++pings_;
    });
    beast::error_code ec;
    co_await ws->async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    ++accepted_;
    sessions_.push_back(ws);
    beast::flat_buffer buf;
    while (true) {
      co_await ws->async_read(buf, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      std::string text = beast::buffers_to_string(buf.data());
      buf.consume(buf.size());
      {
        std::lock_guard<std::mutex> l(mu_);
        received_.push_back(text);
      }
      if (text.rfind("echo:", 0) == 0) {
        ws->text(true);
        ws->write(asio::buffer(text.substr(5)), ec);
      }
    }
    std::erase(sessions_, ws);
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  int port_ = 0;
  std::thread thread_;
  std::vector<std::shared_ptr<Ws>> sessions_;  // io thread only
  std::atomic<int> accepted_{0};
  std::atomic<int> pings_{0};
  std::mutex mu_;
  std::vector<std::string> received_;
};

// Collects what the handlers saw, thread-safely.
struct Recorder {
  std::mutex mu;
  std::vector<std::string> frames;
  std::vector<absl::Status> disconnects;
  std::atomic<int> opens{0};
  std::atomic<bool> stopped{false};
  std::atomic<int> calls_after_stop{0};

  WsHandlers Handlers(std::vector<std::string> open_frames) {
    WsHandlers h;
    h.on_open = [this, open_frames] {
      if (stopped) ++calls_after_stop;
      ++opens;
      return open_frames;
    };
    h.on_frame = [this](std::string_view f, int64_t recv_ns) {
      if (stopped) ++calls_after_stop;
      EXPECT_GT(recv_ns, 0);
      std::lock_guard<std::mutex> l(mu);
      frames.emplace_back(f);
    };
    h.on_disconnect = [this](const absl::Status& why) {
      if (stopped) ++calls_after_stop;
      std::lock_guard<std::mutex> l(mu);
      disconnects.push_back(why);
    };
    return h;
  }
  bool HasFrame(const std::string& f) {
    std::lock_guard<std::mutex> l(mu);
    return std::find(frames.begin(), frames.end(), f) != frames.end();
  }
  bool HasDisconnect(absl::StatusCode code) {
    std::lock_guard<std::mutex> l(mu);
    for (const auto& s : disconnects) {
      if (s.code() == code) return true;
    }
    return false;
  }
};

WsOptions FastOptions(int port) {
  WsOptions o;
  o.url = "ws://127.0.0.1:" + std::to_string(port) + "/stream?streams=a/b";
  o.name = "test";
  o.connect_timeout = absl::Seconds(2);
  o.backoff_initial = absl::Milliseconds(20);
  o.backoff_max = absl::Milliseconds(100);
  o.idle_timeout = absl::ZeroDuration();
  o.ping_interval = absl::ZeroDuration();
  return o;
}

TEST(WsClient, ConnectsSendsOnOpenFramesAndDeliversFrames) {
  TestWsServer server;
  Recorder rec;
  WsClient ws(FastOptions(server.port()), rec.Handlers({"sub:a", "sub:b"}));
  ASSERT_TRUE(ws.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return server.CountReceived("sub:b") == 1; }));
  EXPECT_EQ(server.received(), (std::vector<std::string>{"sub:a", "sub:b"}));
  EXPECT_EQ(ws.state(), WsState::kOpen);
  server.Broadcast("frame-1");
  server.Broadcast("frame-2");
  ASSERT_TRUE(WaitFor([&] { return rec.HasFrame("frame-2"); }));
  {
    std::lock_guard<std::mutex> l(rec.mu);
    EXPECT_EQ(rec.frames, (std::vector<std::string>{"frame-1", "frame-2"}));
  }
  ASSERT_TRUE(ws.Send("echo:pong-me"));
  ASSERT_TRUE(WaitFor([&] { return rec.HasFrame("pong-me"); }));
  WsStats st = ws.Stats();
  EXPECT_EQ(st.connects, 1u);
  EXPECT_EQ(st.reconnects, 0u);
  EXPECT_EQ(st.frames_in, 3u);
  EXPECT_EQ(st.frames_out, 3u);
  ws.Stop();
  rec.stopped = true;
  EXPECT_EQ(ws.state(), WsState::kStopped);
  server.Broadcast("after-stop");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(rec.calls_after_stop.load(), 0);
  EXPECT_FALSE(ws.Send("x"));
}

TEST(WsClient, ResubscribesAfterServerDropsConnection) {
  TestWsServer server;
  Recorder rec;
  WsClient ws(FastOptions(server.port()), rec.Handlers({"sub:a"}));
  ASSERT_TRUE(ws.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return server.CountReceived("sub:a") == 1; }));
  server.DropAll();
  ASSERT_TRUE(WaitFor([&] { return server.CountReceived("sub:a") == 2; }));
  EXPECT_EQ(server.accepted(), 2);
  EXPECT_TRUE(rec.HasDisconnect(absl::StatusCode::kUnavailable));
  ASSERT_TRUE(WaitFor([&] { return ws.state() == WsState::kOpen; }));
  server.Broadcast("after-reconnect");
  ASSERT_TRUE(WaitFor([&] { return rec.HasFrame("after-reconnect"); }));
  EXPECT_EQ(ws.Stats().reconnects, 1u);
  EXPECT_EQ(rec.opens.load(), 2);
}

TEST(WsClient, IdleTimeoutTriggersReconnect) {
  TestWsServer server;  // never sends anything unless asked
  Recorder rec;
  WsOptions o = FastOptions(server.port());
  o.idle_timeout = absl::Milliseconds(150);
  WsClient ws(o, rec.Handlers({"sub:a"}));
  ASSERT_TRUE(ws.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return server.accepted() >= 2; }));
  EXPECT_TRUE(rec.HasDisconnect(absl::StatusCode::kDeadlineExceeded));
  EXPECT_GE(ws.Stats().idle_timeouts, 1u);
  EXPECT_GE(server.CountReceived("sub:a"), 2);
}

TEST(WsClient, SendsControlAndApplicationPings) {
  TestWsServer server;
  Recorder rec;
  WsOptions o = FastOptions(server.port());
  o.ping_interval = absl::Milliseconds(20);
  o.app_ping_frame = R"({"method":"ping"})";
  o.app_ping_interval = absl::Milliseconds(20);
  WsClient ws(o, rec.Handlers({}));
  ASSERT_TRUE(ws.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return server.pings() >= 2; }));
  ASSERT_TRUE(WaitFor([&] { return server.CountReceived(R"({"method":"ping"})") >= 2; }));
  EXPECT_EQ(server.accepted(), 1);
}

TEST(WsClient, StopDuringBackoffReturnsPromptly) {
  Recorder rec;
  WsOptions o = FastOptions(UnusedPort());
  o.backoff_initial = absl::Seconds(60);
  o.backoff_max = absl::Seconds(60);
  o.backoff_jitter = 0;
  WsClient ws(o, rec.Handlers({}));
  ASSERT_TRUE(ws.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return ws.state() == WsState::kBackoff; }));
  EXPECT_TRUE(rec.HasDisconnect(absl::StatusCode::kUnavailable));
  EXPECT_EQ(ws.Stats().connect_failures, 1u);
  auto t0 = std::chrono::steady_clock::now();
  ws.Stop();
  // Far below the 60 s backoff: Stop cancels the wait instead of sleeping through it.
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
  EXPECT_EQ(ws.state(), WsState::kStopped);
}

TEST(WsClient, OversizeFrameDropsConnectionAndReconnects) {
  TestWsServer server;
  Recorder rec;
  WsOptions o = FastOptions(server.port());
  o.max_frame_bytes = 1024;
  WsClient ws(o, rec.Handlers({"sub:a"}));
  ASSERT_TRUE(ws.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return ws.state() == WsState::kOpen; }));
  server.Broadcast(std::string(4096, 'x'));
  ASSERT_TRUE(WaitFor([&] { return server.CountReceived("sub:a") == 2; }));
  EXPECT_TRUE(rec.HasDisconnect(absl::StatusCode::kResourceExhausted));
  EXPECT_EQ(ws.Stats().oversize_frames, 1u);
  EXPECT_FALSE(rec.HasFrame(std::string(4096, 'x')));
  ASSERT_TRUE(WaitFor([&] { return ws.state() == WsState::kOpen; }));
  server.Broadcast("small");
  ASSERT_TRUE(WaitFor([&] { return rec.HasFrame("small"); }));
}

TEST(WsClient, ReconnectRequestReplacesConnection) {
  TestWsServer server;
  Recorder rec;
  WsClient ws(FastOptions(server.port()), rec.Handlers({"sub:a"}));
  ASSERT_TRUE(ws.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return server.CountReceived("sub:a") == 1; }));
  ws.Reconnect("book cannot resync");
  ASSERT_TRUE(WaitFor([&] { return server.CountReceived("sub:a") == 2; }));
  EXPECT_TRUE(rec.HasDisconnect(absl::StatusCode::kCancelled));
}

TEST(WsClient, ReconnectDuringBackoffConnectsAtOnce) {
  TestWsServer server;
  Recorder rec;
  WsOptions o = FastOptions(server.port());
  o.backoff_initial = absl::Seconds(60);
  o.backoff_max = absl::Seconds(60);
  o.backoff_jitter = 0;
  WsClient ws(o, rec.Handlers({"sub:a"}));
  ASSERT_TRUE(ws.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return server.CountReceived("sub:a") == 1; }));
  server.DropAll();
  ASSERT_TRUE(WaitFor([&] { return ws.state() == WsState::kBackoff; }));
  ws.Reconnect("operator asked");
  // Far sooner than the 60 s backoff.
  ASSERT_TRUE(WaitFor([&] { return server.CountReceived("sub:a") == 2; }));
  EXPECT_EQ(ws.state(), WsState::kOpen);
}

TEST(WsClient, SendRefusedWhenNotOpenOrQueueFull) {
  Recorder rec;
  WsOptions o = FastOptions(UnusedPort());
  WsClient ws(o, rec.Handlers({}));
  EXPECT_FALSE(ws.Send("not started"));
  ws.Reconnect("ignored while idle");
  EXPECT_EQ(ws.state(), WsState::kIdle);
  ASSERT_TRUE(ws.Start().ok());
  EXPECT_FALSE(ws.Send("never open"));
  ws.Stop();
  EXPECT_GE(ws.Stats().send_dropped, 2u);
}

TEST(WsClient, SendQueueIsBounded) {
  TestWsServer server;
  WsOptions o = FastOptions(server.port());
  o.max_send_queue = 2;
  std::atomic<int> accepted{0}, refused{0};
  WsClient* self = nullptr;
  WsHandlers h;
  // Inside a handler the writer cannot drain the queue, so the bound is observable exactly.
  h.on_frame = [&](std::string_view, int64_t) {
    for (int i = 0; i < 3; ++i) (self->Send("q" + std::to_string(i)) ? accepted : refused)++;
  };
  h.on_open = [] { return std::vector<std::string>{"sub:a"}; };
  WsClient ws(o, h);
  self = &ws;
  ASSERT_TRUE(ws.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return server.CountReceived("sub:a") == 1; }));
  server.Broadcast("go");
  ASSERT_TRUE(WaitFor([&] { return accepted + refused == 3; }));
  EXPECT_EQ(accepted.load(), 2);
  EXPECT_EQ(refused.load(), 1);
  EXPECT_EQ(ws.Stats().send_dropped, 1u);
  ASSERT_TRUE(WaitFor([&] { return server.CountReceived("q1") == 1; }));
  EXPECT_EQ(server.CountReceived("q2"), 0);
  ws.Stop();
}

TEST(WsClient, StartRejectsBadOptionsAndSecondStart) {
  Recorder rec;
  WsOptions bad;
  bad.url = "http://127.0.0.1:1/";
  WsClient a(bad, rec.Handlers({}));
  EXPECT_EQ(a.Start().code(), absl::StatusCode::kInvalidArgument);
  WsOptions zero = FastOptions(1);
  zero.max_frame_bytes = 0;
  WsClient b(zero, rec.Handlers({}));
  EXPECT_EQ(b.Start().code(), absl::StatusCode::kInvalidArgument);
  WsClient c(FastOptions(UnusedPort()), rec.Handlers({}));
  ASSERT_TRUE(c.Start().ok());
  EXPECT_EQ(c.Start().code(), absl::StatusCode::kFailedPrecondition);
  c.Stop();
  c.Stop();  // idempotent
}

TEST(WsClient, WssAgainstPlainServerFailsHandshakeAndRetries) {
  TestWsServer server;
  Recorder rec;
  WsOptions o = FastOptions(server.port());
  o.url = "wss://127.0.0.1:" + std::to_string(server.port()) + "/";
  WsClient ws(o, rec.Handlers({}));
  ASSERT_TRUE(ws.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return ws.Stats().connect_failures >= 2; }));
  EXPECT_EQ(ws.Stats().connects, 0u);
  ws.Stop();
}

}  // namespace
}  // namespace tickmesh::net
