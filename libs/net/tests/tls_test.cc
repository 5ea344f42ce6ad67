// wss:// and https:// on loopback with a freshly generated self-signed certificate: verification
// is on by default, so the client only connects when told to trust that certificate.
#include <httplib.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "test_tls.h"
#include "tickmesh/net/rest_client.h"
#include "tickmesh/net/ws_client.h"

namespace tickmesh::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;

bool WaitFor(const std::function<bool()>& pred) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return pred();
}

// A wss server: every accepted client gets "hello-tls" and is then read until it leaves.
// Synchronous, one thread per connection; the acceptor thread ends when the acceptor closes.
class TlsWsServer {
 public:
  explicit TlsWsServer(const testing::TestCert& cert)
      : ctx_(ssl::context::tls_server),
        acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    ctx_.use_certificate_chain_file(cert.cert_file);
    ctx_.use_private_key_file(cert.key_file, ssl::context::pem);
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] {
      while (true) {
        beast::error_code ec;
        tcp::socket s(io_);
        acceptor_.accept(s, ec);
        if (ec || stopping_) return;
        std::lock_guard<std::mutex> l(mu_);
        conns_.emplace_back([this, s = std::move(s)]() mutable { Serve(std::move(s)); });
      }
    });
  }
  ~TlsWsServer() {
    // A blocking accept() is not woken by close() from another thread: connect to it instead.
    stopping_ = true;
    beast::error_code ec;
    tcp::socket wake(io_);
    wake.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ec);
    thread_.join();
    acceptor_.close(ec);
    std::lock_guard<std::mutex> l(mu_);
    for (auto& t : conns_) t.join();
  }
  int port() const { return port_; }
  int handshakes() const { return handshakes_.load(); }

 private:
  void Serve(tcp::socket s) {
    beast::error_code ec;
    websocket::stream<beast::ssl_stream<tcp::socket>> ws(std::move(s), ctx_);
    ws.next_layer().handshake(ssl::stream_base::server, ec);
    if (ec) return;
    ws.accept(ec);
    if (ec) return;
    ++handshakes_;
    ws.text(true);
    ws.write(asio::buffer(std::string("hello-tls")), ec);
    beast::flat_buffer buf;
    while (!ec) ws.read(buf, ec);
  }

  asio::io_context io_;
  ssl::context ctx_;
  tcp::acceptor acceptor_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::thread> conns_;
  std::atomic<int> handshakes_{0};
  std::atomic<bool> stopping_{false};
};

struct Seen {
  std::mutex mu;
  std::vector<std::string> frames;
  std::vector<absl::Status> errors;
};

WsHandlers Record(Seen* seen) {
  WsHandlers h;
  h.on_frame = [seen](std::string_view f, int64_t) {
    std::lock_guard<std::mutex> l(seen->mu);
    seen->frames.emplace_back(f);
  };
  h.on_disconnect = [seen](const absl::Status& s) {
    std::lock_guard<std::mutex> l(seen->mu);
    seen->errors.push_back(s);
  };
  return h;
}

WsOptions TlsOptions(int port) {
  WsOptions o;
  o.url = "wss://127.0.0.1:" + std::to_string(port) + "/ws";
  o.backoff_initial = absl::Milliseconds(20);
  o.backoff_max = absl::Milliseconds(100);
  o.ping_interval = absl::ZeroDuration();
  o.idle_timeout = absl::ZeroDuration();
  return o;
}

TEST(WsClientTls, ConnectsWhenTheServerCertificateIsTrusted) {
  testing::TestCert cert = testing::MakeSelfSignedCert();
  ASSERT_TRUE(cert.ok);
  TlsWsServer server(cert);
  Seen seen;
  WsOptions o = TlsOptions(server.port());
  o.ca_file = cert.cert_file;
  WsClient ws(o, Record(&seen));
  ASSERT_TRUE(ws.Start().ok());
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard<std::mutex> l(seen.mu);
    return !seen.frames.empty();
  }));
  EXPECT_EQ(seen.frames[0], "hello-tls");
  EXPECT_EQ(ws.state(), WsState::kOpen);
  ws.Stop();
}

TEST(WsClientTls, RefusesAnUntrustedCertificateByDefault) {
  testing::TestCert cert = testing::MakeSelfSignedCert();
  ASSERT_TRUE(cert.ok);
  TlsWsServer server(cert);
  Seen seen;
  WsClient ws(TlsOptions(server.port()), Record(&seen));  // system trust store only
  ASSERT_TRUE(ws.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return ws.Stats().connect_failures >= 1; }));
  ws.Stop();
  std::lock_guard<std::mutex> l(seen.mu);
  ASSERT_FALSE(seen.errors.empty());
  EXPECT_EQ(seen.errors[0].code(), absl::StatusCode::kUnauthenticated) << seen.errors[0];
  EXPECT_TRUE(seen.frames.empty());
  EXPECT_EQ(server.handshakes(), 0);
}

TEST(WsClientTls, RefusesATrustedCertificateIssuedForAnotherHost) {
  testing::TestCert cert = testing::MakeSelfSignedCert();  // valid for IP 127.0.0.1 only
  ASSERT_TRUE(cert.ok);
  TlsWsServer server(cert);
  Seen seen;
  WsOptions o = TlsOptions(server.port());
  o.url = "wss://localhost:" + std::to_string(server.port()) + "/ws";
  o.ca_file = cert.cert_file;
  WsClient ws(o, Record(&seen));
  ASSERT_TRUE(ws.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return ws.Stats().connect_failures >= 1; }));
  ws.Stop();
  std::lock_guard<std::mutex> l(seen.mu);
  EXPECT_EQ(seen.errors[0].code(), absl::StatusCode::kUnauthenticated) << seen.errors[0];
  EXPECT_EQ(server.handshakes(), 0);
}

TEST(WsClientTls, VerificationCanBeTurnedOffForTests) {
  testing::TestCert cert = testing::MakeSelfSignedCert();
  ASSERT_TRUE(cert.ok);
  TlsWsServer server(cert);
  Seen seen;
  WsOptions o = TlsOptions(server.port());
  o.tls_verify = false;
  WsClient ws(o, Record(&seen));
  ASSERT_TRUE(ws.Start().ok());
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard<std::mutex> l(seen.mu);
    return !seen.frames.empty();
  }));
  ws.Stop();
}

TEST(RestClientTls, HttpsWorksWithTrustedCertificateAndFailsOtherwise) {
  testing::TestCert cert = testing::MakeSelfSignedCert();
  ASSERT_TRUE(cert.ok);
  httplib::SSLServer server(cert.cert_file.c_str(), cert.key_file.c_str());
  ASSERT_TRUE(server.is_valid());
  server.Get("/api/v3/ping", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("{}", "application/json");
  });
  int port = server.bind_to_any_port("127.0.0.1");
  std::thread t([&] { server.listen_after_bind(); });
  HttpRequest r;
  r.target = "/api/v3/ping";
  r.endpoint = "ping";
  {
    RestOptions o;
    o.base_url = "https://127.0.0.1:" + std::to_string(port);
    o.ca_file = cert.cert_file;
    auto client = RestClient::Create(o);
    ASSERT_TRUE(client.ok());
    auto resp = (*client)->Do(r);
    ASSERT_TRUE(resp.ok()) << resp.status();
    EXPECT_EQ(resp->status, 200);
    EXPECT_EQ(resp->body, "{}");
  }
  {
    RestOptions o;
    o.base_url = "https://127.0.0.1:" + std::to_string(port);
    auto client = RestClient::Create(o);
    ASSERT_TRUE(client.ok());
    auto resp = (*client)->Do(r);
    ASSERT_FALSE(resp.ok());
    EXPECT_EQ(resp.status().code(), absl::StatusCode::kUnavailable) << resp.status();
  }
  server.stop();
  t.join();
}

}  // namespace
}  // namespace tickmesh::net
