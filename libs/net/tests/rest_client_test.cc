// RestClient against an httplib::Server on a loopback port chosen by the kernel.
#include "tickmesh/net/rest_client.h"

#include <httplib.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace tickmesh::net {
namespace {

class TestHttpServer {
 public:
  explicit TestHttpServer(std::function<void(httplib::Server&)> routes) {
    routes(server_);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~TestHttpServer() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

std::unique_ptr<RestClient> MakeClient(const std::string& url, RestOptions o = {}) {
  o.base_url = url;
  o.name = "test";
  auto c = RestClient::Create(o);
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *std::move(c) : nullptr;
}

TEST(RestClient, PassesStatusBodyAndHeadersThrough) {
  TestHttpServer server([](httplib::Server& s) {
    s.Post("/api/v3/order", [](const httplib::Request& req, httplib::Response& res) {
      res.status = 400;
      res.set_header("X-Seen-Key", req.get_header_value("X-MBX-APIKEY"));
      res.set_content(R"({"code":-2010,"msg":"Account has insufficient balance"})" +
                          std::string("|") + req.get_header_value("Content-Type") + "|" + req.body +
                          "|" + req.get_param_value("symbol"),
                      "application/json");
    });
  });
  auto client = MakeClient(server.url());
  HttpRequest r;
  r.method = "POST";
  r.target = "/api/v3/order?symbol=BTCUSDT";
  r.headers = {{"X-MBX-APIKEY", "key-1"}};
  r.body = "side=BUY";
  r.content_type = "application/x-www-form-urlencoded";
  r.endpoint = "place_order";
  absl::StatusOr<HttpResponse> resp = client->Do(r);
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->status, 400);
  EXPECT_EQ(resp->body, R"({"code":-2010,"msg":"Account has insufficient balance"}|)"
                        "application/x-www-form-urlencoded|side=BUY|BTCUSDT");
  bool saw = false;
  for (const auto& [k, v] : resp->headers) saw = saw || (k == "X-Seen-Key" && v == "key-1");
  EXPECT_TRUE(saw);
  EXPECT_GT(resp->latency_ns, 0);
  auto stats = client->Stats();
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0].endpoint, "place_order");
  EXPECT_EQ(stats[0].requests, 1u);
  EXPECT_EQ(stats[0].http_errors, 1u);
  EXPECT_EQ(stats[0].transport_errors, 0u);
}

TEST(RestClient, ReusesKeepAliveConnectionForSequentialCalls) {
  std::mutex mu;
  std::vector<int> remote_ports;
  TestHttpServer server([&](httplib::Server& s) {
    s.Get("/ping", [&](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> l(mu);
      remote_ports.push_back(req.remote_port);
      res.set_content("{}", "application/json");
    });
  });
  auto client = MakeClient(server.url());
  HttpRequest r;
  r.target = "/ping";
  r.endpoint = "ping";
  for (int i = 0; i < 3; ++i) {
    auto resp = client->Do(r);
    ASSERT_TRUE(resp.ok()) << resp.status();
    EXPECT_EQ(resp->status, 200);
  }
  ASSERT_EQ(remote_ports.size(), 3u);
  EXPECT_EQ(remote_ports[0], remote_ports[1]);
  EXPECT_EQ(remote_ports[1], remote_ports[2]);
}

TEST(RestClient, SlowServerIsDeadlineExceeded) {
  TestHttpServer server([](httplib::Server& s) {
    s.Get("/slow", [](const httplib::Request&, httplib::Response& res) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1500));
      res.set_content("late", "text/plain");
    });
  });
  RestOptions o;
  o.read_timeout = absl::Milliseconds(300);
  auto client = MakeClient(server.url(), o);
  HttpRequest r;
  r.target = "/slow";
  r.endpoint = "slow";
  auto resp = client->Do(r);
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), absl::StatusCode::kDeadlineExceeded) << resp.status();
  EXPECT_EQ(client->Stats()[0].transport_errors, 1u);
}

TEST(RestClient, RefusedConnectionIsUnavailable) {
  int port = 0;
  {
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    port = a.local_endpoint().port();
  }
  auto client = MakeClient("http://127.0.0.1:" + std::to_string(port));
  HttpRequest r;
  r.target = "/api/v3/depth";
  r.endpoint = "depth";
  auto resp = client->Do(r);
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), absl::StatusCode::kUnavailable) << resp.status();
}

TEST(RestClient, ConcurrentCallsRunInParallel) {
  // Each handler waits until 4 requests are inside the server at once: only a client that does
  // not serialise its calls gets 200s (the wait is bounded, so a serialising client fails).
  std::mutex mu;
  std::condition_variable cv;
  int inside = 0;
  TestHttpServer server([&](httplib::Server& s) {
    s.Get("/barrier", [&](const httplib::Request&, httplib::Response& res) {
      std::unique_lock<std::mutex> l(mu);
      ++inside;
      cv.notify_all();
      bool all = cv.wait_for(l, std::chrono::seconds(3), [&] { return inside >= 4; });
      res.status = all ? 200 : 500;
    });
  });
  RestOptions o;
  o.max_connections = 4;
  auto client = MakeClient(server.url(), o);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      HttpRequest r;
      r.target = "/barrier";
      r.endpoint = "barrier";
      auto resp = client->Do(r);
      if (resp.ok() && resp->status == 200) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 4);
  EXPECT_EQ(client->Stats()[0].requests, 4u);
}

TEST(RestClient, RejectsBadOptionsAndRequests) {
  for (const char* bad : {"ws://127.0.0.1:1", "http://127.0.0.1:1/api", "127.0.0.1:1"}) {
    RestOptions o;
    o.base_url = bad;
    EXPECT_EQ(RestClient::Create(o).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  RestOptions zero;
  zero.base_url = "http://127.0.0.1:1";
  zero.max_connections = 0;
  EXPECT_EQ(RestClient::Create(zero).status().code(), absl::StatusCode::kInvalidArgument);
  auto client = MakeClient("http://127.0.0.1:1");
  HttpRequest r;
  r.method = "TRACE";
  r.target = "/";
  EXPECT_EQ(client->Do(r).status().code(), absl::StatusCode::kInvalidArgument);
  r.method = "GET";
  r.target = "no-slash";
  EXPECT_EQ(client->Do(r).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(RestClient, OnCompleteSeesEveryOutcome) {
  TestHttpServer server([](httplib::Server& s) {
    s.Get("/ok", [](const httplib::Request&, httplib::Response& res) { res.status = 200; });
  });
  std::atomic<int> seen{0};
  RestOptions o;
  o.on_complete = [&](const HttpRequest& req, const absl::StatusOr<HttpResponse>& r) {
    if (req.endpoint == "ok" && r.ok() && r->status == 200) ++seen;
  };
  auto client = MakeClient(server.url(), o);
  HttpRequest r;
  r.target = "/ok";
  r.endpoint = "ok";
  ASSERT_TRUE(client->Do(r).ok());
  EXPECT_EQ(seen.load(), 1);
}

}  // namespace
}  // namespace tickmesh::net
