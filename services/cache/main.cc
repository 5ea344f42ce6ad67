// tickmesh-cache: key/value with TTL over gRPC; Redis shared tier + in-process LRU/TTL tier.
#include <iostream>

#include "cache_grpc.h"
#include "flags.h"
#include "tickmesh/runtime/config.h"
#include "tickmesh/runtime/server.h"

int main(int argc, char** argv) {
  tickmesh::runtime::InitProcess(argc, argv, "cache",
                                 "tickmesh-cache: Redis-backed cache with an in-process LRU tier");
  auto options = tickmesh::cache::CacheOptionsFromFlags();
  if (!options.ok()) {
    std::cerr << "tickmesh-cache: " << options.status().message() << "\n";
    return 2;
  }
  tickmesh::runtime::ServiceHost host(
      tickmesh::runtime::ServiceHost::OptionsFromFlags("cache", 50054, 9104));
  tickmesh::cache::Cache cache(*std::move(options));
  tickmesh::cache::CacheGrpc grpc(&cache);
  tickmesh::cache::AttachToHost(&cache, &host);
  cache.Start();
  host.AddService(&grpc, "tickmesh.v1.CacheService");
  return host.Run();
}
