// Command-line flags of tickmesh-venue-sim (each also settable as TICKMESH_<FLAG>), turned into
// SimOptions. Kept apart from main.cc so flag parsing is unit-tested.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "venue_sim.h"

namespace tickmesh::venue_sim {

// SimOptions from the parsed flags. INVALID_ARGUMENT naming the flag on a bad value
// (--accounts "key:secret,...", --balances "ASSET=DECIMAL,...", --symbols "BASE-QUOTE,...").
absl::StatusOr<SimOptions> OptionsFromFlags();

// Writes `text` to --ports_file (atomically: temp file + rename) if the flag is set.
absl::Status WritePortsFile(const std::string& text);

// Blocks until SIGTERM or SIGINT (InitProcess blocked them for all threads); returns the signal.
int WaitForTermination();

}  // namespace tickmesh::venue_sim
