# Shared by scripts/*: paths, ports, building, and local Redis / PostgreSQL servers from the
# Debian packages. Source it; do not run it.
# shellcheck shell=bash

TICKMESH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-$TICKMESH_ROOT/build}

log() { printf '%s %s\n' "[$(date +%H:%M:%S)]" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Configures (once) and builds the given targets (default: everything) with -j2.
build_targets() {
  if [[ ! -f $BUILD_DIR/CMakeCache.txt ]]; then
    cmake -S "$TICKMESH_ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  fi
  if (($#)); then
    cmake --build "$BUILD_DIR" -j2 --target "$@"
  else
    cmake --build "$BUILD_DIR" -j2
  fi
}

# Runs a command as the postgres system user when we are root (initdb refuses root).
as_pg() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [[ -n $d ]] || die "PostgreSQL server binaries not found: run scripts/install-deps"
  echo "$d"
}

# pg_start DIR PORT: initdb DIR (first time), start on 127.0.0.1:PORT, create database tickmesh.
pg_start() {
  local dir=$1 port=$2 bin
  bin=$(pg_bindir)
  mkdir -p "$dir"
  [[ $(id -u) -eq 0 ]] && chown postgres:postgres "$dir"
  if [[ ! -f $dir/data/PG_VERSION ]]; then
    as_pg "$bin/initdb" -D "$dir/data" -U postgres -A trust --no-sync >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  fi
  as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 30 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1" start >/dev/null ||
    { cat "$dir/postgres.log" >&2; die "PostgreSQL did not start on port $port"; }
  as_pg psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -Atqc \
    "SELECT 1 FROM pg_database WHERE datname='tickmesh'" | grep -q 1 ||
    as_pg psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -qc "CREATE DATABASE tickmesh" >/dev/null
}

# pg_stop DIR [MODE]: stops the server in DIR (mode fast by default; immediate = crash).
pg_stop() {
  local dir=$1 mode=${2:-fast}
  [[ -f $dir/data/postmaster.pid ]] || return 0
  as_pg "$(pg_bindir)/pg_ctl" -D "$dir/data" -m "$mode" -w stop >/dev/null 2>&1 || true
}

# redis_start DIR PORT: a Redis without persistence on 127.0.0.1:PORT, daemonized.
redis_start() {
  local dir=$1 port=$2
  mkdir -p "$dir"
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" \
    --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >/dev/null
  for _ in $(seq 50); do
    redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && return 0
    sleep 0.1
  done
  die "Redis did not start on port $port"
}

# redis_stop DIR: stops the Redis that redis_start ran in DIR (SIGTERM, then waits up to 5 s for
# the process to exit). The pid is read once: Redis removes its own pid file when it shuts down,
# so the file may vanish at any moment. A missing or stale pid file (no such process, or the pid
# now belongs to something that is not redis-server) is cleaned up without touching the process.
redis_stop() {
  local dir=$1 pid="" cmd=""
  { read -r pid <"$dir/redis.pid"; } 2>/dev/null || true
  rm -f "$dir/redis.pid"
  [[ $pid =~ ^[0-9]+$ ]] || return 0
  # A pid can be reused after a crash or reboot: only signal a redis-server.
  if [[ -r /proc/$pid/cmdline ]]; then
    cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || true
    [[ $cmd == *redis-server* ]] || return 0
  fi
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  log "warning: Redis (pid $pid in $dir) still running 5 s after SIGTERM"
}
