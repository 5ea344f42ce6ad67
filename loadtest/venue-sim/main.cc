// tickmesh-venue-sim: Binance and Kraken wire formats on loopback (see README.md).
#include <algorithm>
#include <iostream>

#include "absl/flags/flag.h"
#include "sim_flags.h"
#include "tickmesh/runtime/config.h"
#include "tickmesh/runtime/log.h"
#include "venue_sim.h"

int main(int argc, char** argv) {
  tickmesh::runtime::InitProcess(argc, argv, "venue-sim",
                                 "Usage: tickmesh-venue-sim [--binance_port=0] [--kraken_port=0] "
                                 "[--ports_file=path] [flags]");
  auto options = tickmesh::venue_sim::OptionsFromFlags();
  if (!options.ok()) {
    std::cerr << "tickmesh-venue-sim: " << options.status().message() << "\n";
    return 2;
  }
  auto sim = tickmesh::venue_sim::VenueSim::Start(*options);
  if (!sim.ok()) {
    std::cerr << "tickmesh-venue-sim: " << sim.status().message() << "\n";
    return 1;
  }
  absl::Status written = tickmesh::venue_sim::WritePortsFile((*sim)->PortsText());
  if (!written.ok()) {
    std::cerr << "tickmesh-venue-sim: " << written.message() << "\n";
    return 1;
  }
  std::cout << (*sim)->PortsText() << std::flush;
  std::string ports = (*sim)->PortsText();
  std::replace(ports.begin(), ports.end(), '\n', ' ');
  tickmesh::runtime::LogInfo("venue simulator ready", {{"ports", ports}});
  int sig = tickmesh::venue_sim::WaitForTermination();
  tickmesh::runtime::LogInfo("stopping", {{"signal", sig}});
  (*sim)->Stop();
  return 0;
}
