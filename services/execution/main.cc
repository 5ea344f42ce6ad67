// tickmesh-execution: orders from signals and the API, pre-trade risk, paper venue, positions,
// balances and PnL; order events streamed, persisted through an outbox, balances cached.
#include "src/service.h"
#include "tickmesh/runtime/config.h"

int main(int argc, char** argv) {
  tickmesh::runtime::InitProcess(argc, argv, "execution",
                                 "tickmesh-execution: order management, risk and paper venue.\n"
                                 "Usage: tickmesh-execution [flags]");
  return tickmesh::execution::RunExecutionService();
}
