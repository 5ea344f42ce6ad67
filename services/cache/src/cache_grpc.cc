#include "cache_grpc.h"

#include <string>

namespace tickmesh::cache {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

void AttachToHost(Cache* cache, runtime::ServiceHost* host) {
  if (cache->breaker_state() != v1::BREAKER_STATE_DISABLED) {
    // Optional: with Redis down the cache keeps serving from L1, so it stays ready.
    host->AddDependency("redis", /*required=*/false);
    cache->SetBreakerListener([host](v1::BreakerState state) {
      host->SetDependencyUp("redis", state == v1::BREAKER_STATE_CLOSED);
    });
  }
  host->SetStatusProvider([cache] { return cache->StatusJson(); });
  host->OnStop([cache] { cache->Stop(); });
}

namespace {

// The completion Cache calls (inline or from a worker): finishes the reactor.
Cache::Done FinishReactor(grpc::ServerUnaryReactor* reactor) {
  return [reactor](absl::Status s) { reactor->Finish(ToGrpcStatus(s)); };
}

}  // namespace

grpc::ServerUnaryReactor* CacheGrpc::Get(grpc::CallbackServerContext* ctx,
                                         const v1::GetRequest* req, v1::GetResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  cache_->Get(*req, resp, FinishReactor(reactor));
  return reactor;
}

grpc::ServerUnaryReactor* CacheGrpc::Set(grpc::CallbackServerContext* ctx,
                                         const v1::SetRequest* req, v1::SetResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  cache_->Set(*req, resp, FinishReactor(reactor));
  return reactor;
}

grpc::ServerUnaryReactor* CacheGrpc::Delete(grpc::CallbackServerContext* ctx,
                                            const v1::DeleteRequest* req,
                                            v1::DeleteResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  cache_->Delete(*req, resp, FinishReactor(reactor));
  return reactor;
}

grpc::ServerUnaryReactor* CacheGrpc::MGet(grpc::CallbackServerContext* ctx,
                                          const v1::MGetRequest* req, v1::MGetResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  cache_->MGet(*req, resp, FinishReactor(reactor));
  return reactor;
}

grpc::ServerUnaryReactor* CacheGrpc::MSet(grpc::CallbackServerContext* ctx,
                                          const v1::MSetRequest* req, v1::MSetResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  cache_->MSet(*req, resp, FinishReactor(reactor));
  return reactor;
}

grpc::ServerUnaryReactor* CacheGrpc::Stats(grpc::CallbackServerContext* ctx,
                                           const v1::StatsRequest* req, v1::StatsResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  *resp = cache_->Stats();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace tickmesh::cache
