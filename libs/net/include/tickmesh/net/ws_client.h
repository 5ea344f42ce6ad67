// WsClient: one WebSocket connection (ws:// or wss://) kept alive on its own I/O thread.
//
// It connects, (re)subscribes, delivers text frames, detects dead connections (idle timeout,
// control pings), and reconnects with jittered exponential backoff until Stop(). Venue protocol
// knowledge (what to subscribe, how to parse) stays with the caller: the on_open handler returns
// the frames to send after every (re)connect, on_frame receives every frame.
//
// Threading: every handler runs on the client's I/O thread, one at a time, never concurrently
// with another handler of the same client. Handlers must not block for long (they delay reads and
// pings). Send(), Reconnect(), state() and Stats() may be called from any thread, including from
// inside a handler. Stop() may be called from any thread except a handler (see Stop()).
//
// Example:
//   tickmesh::net::WsOptions o;
//   o.url = "wss://ws.kraken.com/v2";
//   o.name = "kraken";
//   o.app_ping_frame = R"({"method":"ping"})";
//   o.app_ping_interval = absl::Seconds(20);
//   tickmesh::net::WsHandlers h;
//   h.on_open = [&] { return codec->SubscribeFrames(); };
//   h.on_frame = [&](std::string_view f, int64_t recv_ns) { codec->Decode(f, recv_ns, &out); };
//   h.on_disconnect = [&](const absl::Status& why) { codec->Reset(); };
//   tickmesh::net::WsClient ws(o, h);
//   if (absl::Status s = ws.Start(); !s.ok()) return s;   // bad URL / options
//   ...
//   ws.Stop();   // joins; no handler runs after this returns
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace tickmesh::net {

struct WsOptions {
  // "ws://127.0.0.1:9000/stream?streams=btcusdt@depth@100ms" or "wss://stream.binance.com:9443/…".
  // The path+query is sent as the handshake target.
  std::string url;
  // Low-cardinality label for logs and metrics ("binance", "kraken"); never a secret.
  std::string name = "ws";
  // Bound on DNS + TCP connect + TLS handshake + WebSocket upgrade, each attempt.
  absl::Duration connect_timeout = absl::Seconds(10);
  // No frame (text/binary data, not pongs) received for this long -> the connection is considered
  // dead and is replaced (on_disconnect gets DEADLINE_EXCEEDED). Zero disables.
  absl::Duration idle_timeout = absl::Seconds(30);
  // Interval of WebSocket control pings (opcode 0x9) the client sends. Zero disables.
  absl::Duration ping_interval = absl::Seconds(15);
  // Application-level heartbeat some venues require (Bybit {"op":"ping"}, Kraken v2
  // {"method":"ping"}): sent as a text frame every app_ping_interval while open. Empty disables.
  std::string app_ping_frame;
  absl::Duration app_ping_interval = absl::Seconds(20);
  // Reconnect backoff: the first retry waits ~backoff_initial, each consecutive failure doubles
  // it up to backoff_max; every wait is jittered uniformly in [d*(1-backoff_jitter), d]. A
  // connection that stayed open for at least backoff_reset_after resets the backoff.
  absl::Duration backoff_initial = absl::Milliseconds(250);
  absl::Duration backoff_max = absl::Seconds(30);
  double backoff_jitter = 0.5;  // 0..1
  absl::Duration backoff_reset_after = absl::Seconds(10);
  // A frame larger than this closes the connection (status 1009 to the peer; on_disconnect gets
  // RESOURCE_EXHAUSTED) and the client reconnects. Bounds memory per connection.
  size_t max_frame_bytes = 16 << 20;
  // Frames waiting to be written; Send() beyond this is refused and counted in send_dropped.
  size_t max_send_queue = 4096;
  // wss only: verify the server certificate chain and host name (SNI is always sent). Turning
  // this off is for tests against self-signed servers only.
  bool tls_verify = true;
  // wss only: PEM file of trusted CAs; empty = the system default trust store.
  std::string ca_file;
  // Extra handshake request headers (e.g. an auth token); values are never logged.
  std::vector<std::pair<std::string, std::string>> headers;
};

struct WsHandlers {
  // Called after every successful connect (first one and each reconnect) before any frame is
  // delivered; returns text frames sent first, in order (subscriptions). May be empty/null.
  std::function<std::vector<std::string>()> on_open;
  // One complete text (or binary) message; `frame` is valid only during the call.
  // recv_unix_ns: wall-clock time when the read completed.
  std::function<void(std::string_view frame, int64_t recv_unix_ns)> on_frame;
  // The connection ended or a connect attempt failed, with why: UNAVAILABLE (connect refused,
  // I/O error, peer closed), DEADLINE_EXCEEDED (connect timeout, idle timeout),
  // RESOURCE_EXHAUSTED (frame above max_frame_bytes), CANCELLED (Reconnect()/Stop()),
  // UNAUTHENTICATED (TLS verification failed). Called once per failed attempt / closed connection.
  std::function<void(const absl::Status& why)> on_disconnect;
};

enum class WsState {
  kIdle,        // constructed, not started
  kConnecting,  // resolving / connecting / handshaking
  kOpen,        // upgraded; frames flow
  kBackoff,     // waiting before the next attempt
  kStopped,     // Stop() done (terminal)
};
std::string_view WsStateName(WsState state);  // "idle" | "connecting" | "open" | ...

struct WsStats {
  uint64_t connects = 0;    // successful handshakes
  uint64_t reconnects = 0;  // successful handshakes after the first
  uint64_t connect_failures = 0;
  uint64_t frames_in = 0;
  uint64_t bytes_in = 0;
  uint64_t frames_out = 0;    // text frames written (on_open, Send, app pings)
  uint64_t send_dropped = 0;  // Send() refused: not open, queue full, or dropped at close
  uint64_t idle_timeouts = 0;
  uint64_t oversize_frames = 0;
  std::string last_error;  // message of the last on_disconnect status, "" if none
};

class WsClient {
 public:
  WsClient(WsOptions options, WsHandlers handlers);
  // Stops (joins) if still running.
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  // Validates the options and starts the I/O thread, which connects immediately.
  // INVALID_ARGUMENT for a bad URL/option; FAILED_PRECONDITION if already started or stopped.
  absl::Status Start();

  // Closes the connection (TCP close, no WebSocket close handshake), cancels any attempt or
  // backoff, joins the I/O thread. Returns promptly (never waits out a backoff; on_disconnect
  // gets CANCELLED for an open or connecting attempt). After it returns
  // no handler runs again. Idempotent. Called from inside a handler it only requests the stop
  // (it cannot join its own thread); the owner must still call Stop() from another thread.
  void Stop();

  // Queues a text frame for the open connection. Returns false (and counts send_dropped) if the
  // connection is not open or the queue holds max_send_queue frames. Frames queued but unsent
  // when a connection closes are dropped (and counted): after a reconnect the on_open frames
  // rebuild the subscription state.
  bool Send(std::string frame);

  // Drops the current connection (or ends the current backoff) and connects again at once;
  // on_disconnect gets CANCELLED with `reason`. Used by callers that detect protocol trouble
  // (e.g. a book that cannot resync). No-op when idle or stopped.
  void Reconnect(std::string reason);

  WsState state() const;
  WsStats Stats() const;
  const WsOptions& options() const { return options_; }

 private:
  class Impl;
  WsOptions options_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tickmesh::net
