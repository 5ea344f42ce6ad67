// Blocking helpers over Cache's asynchronous API, for tests.
#pragma once

#include <chrono>
#include <functional>
#include <future>
#include <string>
#include <thread>

#include "cache_service.h"

namespace tickmesh::cache::testutil {

// Runs one Cache request and waits for its completion (at most 10 s).
template <typename Req, typename Resp>
absl::Status Call(void (Cache::*method)(const Req&, Resp*, Cache::Done), Cache& cache,
                  const Req& req, Resp* resp) {
  std::promise<absl::Status> done;
  auto fut = done.get_future();
  (cache.*method)(req, resp, [&done](absl::Status s) { done.set_value(std::move(s)); });
  if (fut.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    return absl::DeadlineExceededError("cache request did not complete within 10 s");
  }
  return fut.get();
}

inline absl::Status Set(Cache& c, const std::string& key, const std::string& value,
                        int64_t ttl_ms = 0) {
  v1::SetRequest req;
  req.set_key(key);
  req.set_value(value);
  req.set_ttl_ms(ttl_ms);
  v1::SetResponse resp;
  return Call(&Cache::Set, c, req, &resp);
}

inline absl::Status Get(Cache& c, const std::string& key, v1::GetResponse* resp) {
  v1::GetRequest req;
  req.set_key(key);
  return Call(&Cache::Get, c, req, resp);
}

inline absl::Status Delete(Cache& c, const std::string& key, bool* deleted = nullptr) {
  v1::DeleteRequest req;
  req.set_key(key);
  v1::DeleteResponse resp;
  absl::Status s = Call(&Cache::Delete, c, req, &resp);
  if (deleted != nullptr) *deleted = resp.deleted();
  return s;
}

// Polls `cond` every 10 ms for up to `timeout`; returns its last value.
inline bool WaitFor(const std::function<bool()>& cond,
                    std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return cond();
}

}  // namespace tickmesh::cache::testutil
