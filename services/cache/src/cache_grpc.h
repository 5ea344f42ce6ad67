// CacheGrpc: tickmesh.v1.CacheService over the gRPC callback API, a thin adapter onto Cache.
// Handlers never block: each one hands the request to Cache, which answers inline when no I/O is
// needed or finishes the reactor from one of its own worker threads.
#pragma once

#include "cache_service.h"
#include "tickmesh/runtime/server.h"
#include "tickmesh/v1/cache.grpc.pb.h"

namespace tickmesh::cache {

class CacheGrpc final : public v1::CacheService::CallbackService {
 public:
  // `cache` is not owned and must outlive the gRPC server.
  explicit CacheGrpc(Cache* cache) : cache_(cache) {}

  grpc::ServerUnaryReactor* Get(grpc::CallbackServerContext* ctx, const v1::GetRequest* req,
                                v1::GetResponse* resp) override;
  grpc::ServerUnaryReactor* Set(grpc::CallbackServerContext* ctx, const v1::SetRequest* req,
                                v1::SetResponse* resp) override;
  grpc::ServerUnaryReactor* Delete(grpc::CallbackServerContext* ctx, const v1::DeleteRequest* req,
                                   v1::DeleteResponse* resp) override;
  grpc::ServerUnaryReactor* MGet(grpc::CallbackServerContext* ctx, const v1::MGetRequest* req,
                                 v1::MGetResponse* resp) override;
  grpc::ServerUnaryReactor* MSet(grpc::CallbackServerContext* ctx, const v1::MSetRequest* req,
                                 v1::MSetResponse* resp) override;
  grpc::ServerUnaryReactor* Stats(grpc::CallbackServerContext* ctx, const v1::StatsRequest* req,
                                  v1::StatsResponse* resp) override;

 private:
  Cache* cache_;
};

// Wires `cache` into `host` before Start(): an optional "redis" dependency (when Redis is
// configured) that is up exactly while the breaker is CLOSED, the Stats fields on /status, and
// cache->Stop() as a stop hook (after the gRPC server has drained). Both must outlive Run().
void AttachToHost(Cache* cache, runtime::ServiceHost* host);

// absl::Status -> grpc::Status (same code, same message).
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace tickmesh::cache
