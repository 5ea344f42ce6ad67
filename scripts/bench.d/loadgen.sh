# scripts/bench loadgen: the open-loop generator alone on one core vs building + serializing the same messages in a bare loop
# The sink is in-process (no network): per message it builds the traced trade (and book
# snapshot) protobufs exactly as the tick driver does, serializes the batch as gRPC would, and
# records the latency in the Recorder. "capacity" is the generator behind a 10 M/s schedule; the
# baseline is the same build + serialize with no schedule and no recording, so the ratio is what
# the open-loop machinery costs. Target (issue 9): >= 200 k msg/s. LOADGEN_RATE sets the paced
# run's rate (default 200 000/s), LOADGEN_SECONDS each run's length (default 3).
# shellcheck shell=bash
bench_main() {
  build_targets tickmesh-bench-loadgen >/dev/null
  "$BUILD_DIR/loadtest/tickmesh-bench-loadgen" --rate "${LOADGEN_RATE:-200000}" \
    --seconds "${LOADGEN_SECONDS:-3}"
}
