// Entry point of tickmesh-loadtest: flags, the `run` and `serve` subcommands.
#pragma once

namespace tickmesh::loadtest {

// Exit codes: 0 run passed (or serve ended cleanly), 1 run failed to reach the mesh or SLO failed,
// 2 usage or configuration error.
int Main(int argc, char** argv);

}  // namespace tickmesh::loadtest
