// tickmesh-loadtest: drives load against the mesh and reports latency with SLO verdicts.
//   tickmesh-loadtest run [--rate 5000 --duration_s 10 --report_dir DIR --slo tick_to_order.p99<=1000]
//   tickmesh-loadtest serve   (LoadTestService on :50056, admin on :9106)
#include "loadtest_cli.h"

int main(int argc, char** argv) { return tickmesh::loadtest::Main(argc, argv); }
