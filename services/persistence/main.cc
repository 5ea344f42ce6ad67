// tickmesh-persistence: the system of record (PostgreSQL or embedded SQLite) with durable acks
// and a local spool for database outages. See README.md.
#include <iostream>

#include "service.h"
#include "tickmesh/runtime/config.h"
#include "tickmesh/runtime/server.h"

int main(int argc, char** argv) {
  tickmesh::runtime::InitProcess(argc, argv, "persistence",
                                 "tickmesh-persistence: durable store for orders, fills, "
                                 "positions, balances, signals and candles");
  auto config = tickmesh::persistence::ConfigFromFlags();
  if (!config.ok()) {
    std::cerr << "tickmesh-persistence: " << config.status().message() << "\n";
    return 2;
  }
  auto server = tickmesh::persistence::PersistenceServer::Create(*config);
  if (!server.ok()) {
    std::cerr << "tickmesh-persistence: " << server.status().message() << "\n";
    return 2;
  }
  tickmesh::runtime::ServiceHost host(
      tickmesh::runtime::ServiceHost::OptionsFromFlags("persistence", 50055, 9105));
  (*server)->Attach(host);
  return host.Run();
}
