#!/usr/bin/env bash
# Shared helpers for scripts/run and scripts/test. Source it; do not run it
# (except `scripts/lib.sh stop-private`, which stops the private instances).
#
# Database and Redis resolution, for each of Postgres and Redis:
#   a. DATABASE_URL / REDIS_URL already set      -> used as they are;
#   b. a server on the default local port         -> used
#      (postgres://postgres@127.0.0.1:5432/postgres, redis://127.0.0.1:6379);
#   c. otherwise PostgreSQL / Redis are installed from the distribution's
#      packages and private instances run under .local/ (ports 55432 / 56379).
# HOOKGATE_FORCE_PRIVATE_DB=1 skips a and b and always uses the private instances.
set -euo pipefail

HG_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HG_LOCAL="$HG_ROOT/.local"
HG_PG_PORT="${HOOKGATE_PRIVATE_PG_PORT:-55432}"
HG_REDIS_PORT="${HOOKGATE_PRIVATE_REDIS_PORT:-56379}"
HG_APT_UPDATED=0

hg_log() { printf '==> %s\n' "$*" >&2; }
hg_die() { printf 'error: %s\n' "$*" >&2; exit 1; }
# A number field of a JSON file (the benchmark's phase reports): `hg_json_number FILE FIELD`.
hg_json_number() { sed -n "s/.*\"$2\": *\([0-9.]*\).*/\1/p" "$1" | head -n 1; }

# Runs a command as root: directly when root, else through sudo.
hg_as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    hg_die "need root to run '$*' (not root and no sudo); install it yourself or set DATABASE_URL/REDIS_URL"
  fi
}

# Installs Debian packages; `apt-get update` runs at most once per script.
hg_apt_install() {
  command -v apt-get >/dev/null 2>&1 ||
    hg_die "apt-get not found: install $* yourself, or set DATABASE_URL/REDIS_URL"
  if [ "$HG_APT_UPDATED" -eq 0 ]; then
    hg_log "apt-get update"
    hg_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    HG_APT_UPDATED=1
  fi
  hg_log "apt-get install $*"
  hg_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
}

# True when something accepts TCP connections on host:port.
hg_port_open() {
  # shellcheck disable=SC2016 # expanded by the inner bash
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

# True when a Postgres server at $1 (URL) accepts a trust-auth connection.
# Without psql (or pg_isready) only the port is checked.
hg_pg_ok() {
  local url="$1" host="$2" port="$3"
  if command -v psql >/dev/null 2>&1; then
    PGCONNECT_TIMEOUT=3 psql "$url" -qAtX -c 'select 1' </dev/null >/dev/null 2>&1
  elif command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h "$host" -p "$port" -t 3
  else
    hg_port_open "$host" "$port"
  fi
}

# psql, for SQL files run by the benchmark (bench/scale_dataset.sql).
hg_ensure_psql() {
  command -v psql >/dev/null 2>&1 || hg_apt_install postgresql-client
}

# True when a Redis server answers PING on host:port (no redis-cli needed).
hg_redis_ok() {
  # shellcheck disable=SC2016 # expanded by the inner bash
  timeout 3 bash -c '
    exec 3<>"/dev/tcp/$1/$2" || exit 1
    printf "PING\r\n" >&3
    IFS= read -r line <&3 || exit 1
    [[ $line == +PONG* ]]' _ "$1" "$2" 2>/dev/null
}

# ---------------------------------------------------------------- Postgres

# Prints the newest /usr/lib/postgresql/*/bin that has initdb and pg_ctl.
hg_pg_bindir() {
  local d
  # The glob sorts lexically (10 before 9): sort by version instead.
  for d in /usr/lib/postgresql/*/bin; do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then printf '%s\n' "$d"; fi
  done | sort -V | tail -n 1
}

# Makes sure the PostgreSQL server binaries (initdb, pg_ctl) are installed.
hg_ensure_pg_server_bins() {
  if [ -z "$(hg_pg_bindir)" ]; then
    hg_log "PostgreSQL server binaries not found: installing them"
    hg_apt_install postgresql
  fi
  HG_PG_BIN="$(hg_pg_bindir)"
  [ -n "$HG_PG_BIN" ] || hg_die "no initdb/pg_ctl under /usr/lib/postgresql/*/bin after installing postgresql"
  export HG_PG_BIN
}

# Runs a command as the owner of the private cluster: the current user, or
# the `postgres` system user when we are root (initdb refuses to run as root).
hg_as_pg() {
  if [ "$(id -u)" -ne 0 ]; then
    "$@"
  elif command -v runuser >/dev/null 2>&1; then
    (cd / && runuser -u postgres -- "$@") # from /: postgres may not reach the cwd
  else
    (cd / && su postgres -s /bin/sh -c "$(printf '%q ' "$@")")
  fi
}

# Where the private cluster lives: .local/pg, unless we are root and the
# `postgres` user cannot reach the project folder (e.g. a clone under /root or
# a mode-700 temporary folder); then a folder under /tmp keyed by the path.
hg_pg_dir() {
  local dir="$HG_LOCAL/pg"
  if [ "$(id -u)" -eq 0 ]; then
    mkdir -p "$dir"
    chown postgres: "$dir"
    if ! hg_as_pg test -w "$dir"; then
      dir="/tmp/hookgate-pg-$(printf '%s' "$HG_ROOT" | cksum | cut -d' ' -f1)"
      mkdir -p "$dir"
      chown postgres: "$dir"
      chmod 700 "$dir"
      hg_log "user postgres cannot reach $HG_LOCAL; the private cluster lives in $dir"
    fi
  else
    mkdir -p "$dir"
  fi
  printf '%s\n' "$dir"
}

# Starts (or reuses, or restarts) the private cluster; sets HG_PRIVATE_DATABASE_URL.
hg_private_postgres() {
  hg_ensure_pg_server_bins
  if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
    hg_die "running as root but there is no 'postgres' system user to own the private cluster"
  fi
  local dir data
  dir="$(hg_pg_dir)"
  data="$dir/data"
  HG_PRIVATE_DATABASE_URL="postgres://postgres@127.0.0.1:$HG_PG_PORT/postgres"

  if ! hg_as_pg test -f "$data/PG_VERSION"; then
    hg_log "initdb: private PostgreSQL cluster in $data"
    hg_as_pg mkdir -p "$dir/run"
    hg_as_pg "$HG_PG_BIN/initdb" -D "$data" -U postgres --auth=trust \
      --encoding=UTF8 --no-locale >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; hg_die "initdb failed"; }
    # shellcheck disable=SC2016 # expanded by the inner sh
    hg_as_pg sh -c 'cat >>"$1/postgresql.conf"' _ "$data" <<EOF

# hookgate private development cluster (scripts/lib.sh)
port = $HG_PG_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir/run'
max_connections = 200
EOF
  fi

  if hg_as_pg "$HG_PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    hg_log "PostgreSQL: reusing the private cluster on 127.0.0.1:$HG_PG_PORT"
  else
    if hg_port_open 127.0.0.1 "$HG_PG_PORT"; then
      hg_die "port $HG_PG_PORT is taken by another process; set HOOKGATE_PRIVATE_PG_PORT to a free port (and remove $data)"
    fi
    hg_log "PostgreSQL: starting the private cluster on 127.0.0.1:$HG_PG_PORT (log: $dir/postgres.log)"
    hg_as_pg "$HG_PG_BIN/pg_ctl" -D "$data" -l "$dir/postgres.log" -w -t 60 start >/dev/null ||
      { tail -n 20 "$dir/postgres.log" >&2 || true; hg_die "pg_ctl start failed"; }
  fi
}

# ------------------------------------------------------------------- Redis

# Installs redis-server when it is missing (the private instance, and tests that start a
# TLS-only Redis of their own, need it); prints its path.
hg_ensure_redis_server_bin() {
  if ! command -v redis-server >/dev/null; then
    hg_log "redis-server not found: installing it" >&2
    hg_apt_install redis-server >&2
  fi
  command -v redis-server || echo /usr/bin/redis-server
}

# Prints the path of nats-server (JetStream), installing Debian's package when it is missing:
# the NATS destination tests start servers of their own.
hg_ensure_nats_server_bin() {
  if ! command -v nats-server >/dev/null && [ ! -x /usr/sbin/nats-server ]; then
    hg_log "nats-server not found: installing it" >&2
    hg_apt_install nats-server >&2
  fi
  command -v nats-server || echo /usr/sbin/nats-server
}

# Installs Debian's rabbitmq-server when it is missing: the AMQP destination tests start nodes
# of their own from /usr/lib/rabbitmq/bin/rabbitmq-server.
hg_ensure_rabbitmq_server() {
  if [ ! -x /usr/lib/rabbitmq/bin/rabbitmq-server ]; then
    hg_log "rabbitmq-server not found: installing it"
    hg_apt_install rabbitmq-server
  fi
}

# Starts (or reuses, or restarts) the private Redis; sets HG_PRIVATE_REDIS_URL.
hg_private_redis() {
  local redis_server
  redis_server="$(hg_ensure_redis_server_bin)"
  local dir="$HG_LOCAL/redis"
  HG_PRIVATE_REDIS_URL="redis://127.0.0.1:$HG_REDIS_PORT"
  if hg_redis_ok 127.0.0.1 "$HG_REDIS_PORT"; then
    hg_log "Redis: reusing the private instance on 127.0.0.1:$HG_REDIS_PORT"
    return
  fi
  if hg_port_open 127.0.0.1 "$HG_REDIS_PORT"; then
    hg_die "port $HG_REDIS_PORT is taken by another process; set HOOKGATE_PRIVATE_REDIS_PORT to a free port"
  fi
  mkdir -p "$dir"
  hg_log "Redis: starting a private instance on 127.0.0.1:$HG_REDIS_PORT (log: $dir/redis.log)"
  "$redis_server" --port "$HG_REDIS_PORT" --bind 127.0.0.1 --daemonize yes \
    --dir "$dir" --save "" --appendonly no \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
  local _
  for _ in $(seq 1 50); do
    hg_redis_ok 127.0.0.1 "$HG_REDIS_PORT" && return
    sleep 0.2
  done
  tail -n 20 "$dir/redis.log" >&2 || true
  hg_die "the private Redis did not answer on 127.0.0.1:$HG_REDIS_PORT within 10 s"
}

# ------------------------------------------------------------- resolution

# Exports DATABASE_URL and REDIS_URL following the order described at the top.
hg_resolve_services() {
  local force="${HOOKGATE_FORCE_PRIVATE_DB:-0}"
  [ "$force" = 1 ] && hg_log "HOOKGATE_FORCE_PRIVATE_DB=1: using private instances under .local/"

  HG_DATABASE_URL_FROM_ENV=0
  if [ "$force" != 1 ] && [ -n "${DATABASE_URL:-}" ]; then
    hg_log "PostgreSQL: using DATABASE_URL from the environment"
    HG_DATABASE_URL_FROM_ENV=1
  elif [ "$force" != 1 ] && hg_port_open 127.0.0.1 5432 &&
    hg_pg_ok postgres://postgres@127.0.0.1:5432/postgres 127.0.0.1 5432; then
    hg_log "PostgreSQL: using the local server on 127.0.0.1:5432"
    DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres"
  else
    if [ "$force" != 1 ] && hg_port_open 127.0.0.1 5432; then
      hg_log "PostgreSQL on 127.0.0.1:5432 refuses user postgres without a password: using a private cluster"
    fi
    hg_private_postgres
    DATABASE_URL="$HG_PRIVATE_DATABASE_URL"
  fi

  if [ "$force" != 1 ] && [ -n "${REDIS_URL:-}" ]; then
    hg_log "Redis: using REDIS_URL from the environment"
  elif [ "$force" != 1 ] && hg_redis_ok 127.0.0.1 6379; then
    hg_log "Redis: using the local server on 127.0.0.1:6379"
    REDIS_URL="redis://127.0.0.1:6379"
  else
    hg_private_redis
    REDIS_URL="$HG_PRIVATE_REDIS_URL"
  fi
  export DATABASE_URL REDIS_URL
}

# Stops the private instances (if running). Leaves their data in place.
hg_stop_private() {
  local dir
  if [ -n "$(hg_pg_bindir)" ]; then
    HG_PG_BIN="$(hg_pg_bindir)"
    for dir in "$HG_LOCAL/pg" "/tmp/hookgate-pg-$(printf '%s' "$HG_ROOT" | cksum | cut -d' ' -f1)"; do
      if [ -f "$dir/data/PG_VERSION" ] && hg_as_pg "$HG_PG_BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
        hg_log "stopping the private PostgreSQL in $dir/data"
        hg_as_pg "$HG_PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
      fi
    done
  fi
  if [ -f "$HG_LOCAL/redis/redis.pid" ]; then
    local pid
    pid="$(cat "$HG_LOCAL/redis/redis.pid")"
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      hg_log "stopping the private Redis (pid $pid)"
      kill "$pid"
    fi
  fi
}

# Drops the per-test databases of test run $1 (hgtest_<run>_*): what a killed run left
# behind. Other runs' databases on the same server are not touched.
hg_drop_test_databases() {
  local run="$1"
  command -v psql >/dev/null 2>&1 || return 0
  local names
  names=$(psql "$DATABASE_URL" -qAtX -c "select datname from pg_database where datname like 'hgtest\_${run}\_%'" </dev/null 2>/dev/null) || return 0
  local name
  for name in $names; do
    psql "$DATABASE_URL" -qAtX -c "drop database if exists \"$name\" with (force)" </dev/null >/dev/null 2>&1 || true
  done
}

# Makes sure Chromium and its WebDriver are installed: the console's browser tests drive them
# (they fail, not skip, without them).
hg_ensure_chromium() {
  if [ ! -x /usr/bin/chromium ] || ! command -v chromedriver >/dev/null 2>&1; then
    hg_log "chromium or chromedriver not found: installing them"
    hg_apt_install chromium chromium-driver
  fi
}

# Makes sure a C linker is there (a Rust toolchain alone does not bring one).
hg_ensure_linker() {
  command -v cc >/dev/null 2>&1 || hg_apt_install gcc libc6-dev
}

# Makes sure rustfmt and clippy are installed (rustup toolchains may lack them).
hg_ensure_rust_components() {
  local missing=()
  cargo fmt --version >/dev/null 2>&1 || missing+=(rustfmt)
  cargo clippy --version >/dev/null 2>&1 || missing+=(clippy)
  if [ "${#missing[@]}" -gt 0 ]; then
    command -v rustup >/dev/null 2>&1 || hg_die "cargo ${missing[*]} missing and no rustup to install it"
    hg_log "rustup component add ${missing[*]}"
    rustup component add "${missing[@]}"
  fi
}

# ------------------------------------------------------------ schemathesis

# The schemathesis release the OpenAPI conformance test was written against (its CLI changes
# between major versions).
HG_SCHEMATHESIS_VERSION="4.32.5"

# Installs schemathesis into a virtualenv under .local/ when it is missing (or another
# version), with python3-venv from the distribution's packages if needed; exports
# HOOKGATE_SCHEMATHESIS, the path of its `st` command, for tests/api/openapi_conformance.rs.
hg_ensure_schemathesis() {
  local venv="$HG_LOCAL/schemathesis"
  local st="$venv/bin/st"
  if ! "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('schemathesis') != '$HG_SCHEMATHESIS_VERSION')" 2>/dev/null; then
    command -v python3 >/dev/null 2>&1 || hg_apt_install python3
    python3 -m venv --help >/dev/null 2>&1 && python3 -c 'import ensurepip' 2>/dev/null ||
      hg_apt_install python3-venv
    hg_log "installing schemathesis $HG_SCHEMATHESIS_VERSION into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check \
      "schemathesis==$HG_SCHEMATHESIS_VERSION" ||
      hg_die "could not install schemathesis $HG_SCHEMATHESIS_VERSION into $venv"
  fi
  [ -x "$st" ] || hg_die "schemathesis installed but $st is missing"
  HOOKGATE_SCHEMATHESIS="$st"
  export HOOKGATE_SCHEMATHESIS
}

# Makes sure cargo-fuzz and the nightly toolchain it builds with are installed (scripts/fuzz).
hg_ensure_cargo_fuzz() {
  command -v rustup >/dev/null 2>&1 || hg_die "scripts/fuzz needs rustup for the nightly toolchain"
  if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    hg_log "rustup toolchain install nightly"
    rustup toolchain install nightly --profile minimal
  fi
  if ! cargo fuzz --version >/dev/null 2>&1; then
    hg_log "cargo install cargo-fuzz"
    cargo install --locked cargo-fuzz
  fi
  command -v c++ >/dev/null 2>&1 || hg_apt_install g++
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  case "${1:-}" in
    stop-private) hg_stop_private ;;
    *) echo "usage: scripts/lib.sh stop-private   (otherwise: source it)" >&2; exit 2 ;;
  esac
fi
