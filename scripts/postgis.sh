#!/usr/bin/env bash
# Provides PostGIS for the project when DATABASE_URL is not set: installs the distribution's
# PostgreSQL and PostGIS packages when they are missing, and runs a private cluster that belongs
# to this checkout (data in .pg/, its own port, listening on 127.0.0.1 only).
#
#   scripts/postgis.sh start            start the private cluster (creating it the first time)
#   scripts/postgis.sh stop             stop it
#   scripts/postgis.sh status           say whether it runs
#   scripts/postgis.sh url [DBNAME]     print the URL of DBNAME on the private cluster
#   scripts/postgis.sh disposable DIR PORT   create and start a throw-away cluster (tests)
#   scripts/postgis.sh ctl DIR start|stop    start or stop such a cluster
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PGDIR="${CPTS_PG_DIR:-$here/.pg}"
# The port is chosen once, when the cluster is created, and kept in .pg/port (the settings read
# it): 54329, or the next free one when another checkout's cluster already listens there.
PORT_FILE="$PGDIR/port"

say() { printf 'postgis: %s\n' "$*" >&2; }

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

private_port() {
  if [ -s "$PORT_FILE" ]; then cat "$PORT_FILE"; return 0; fi
  local port="${CPTS_PG_PORT:-54329}"
  while port_in_use "$port"; do port=$((port + 1)); done
  echo "$port"
}

pg_bindir() {
  local v
  for v in $(ls -1 /usr/lib/postgresql 2>/dev/null | sort -rn); do
    if [ -x "/usr/lib/postgresql/$v/bin/initdb" ]; then
      echo "/usr/lib/postgresql/$v/bin"; return 0
    fi
  done
  return 1
}

apt_install() {
  if [ "$(id -u)" != 0 ]; then
    say "paquets manquants: $*; installez-les (sudo apt-get install $*) ou définissez DATABASE_URL"
    exit 1
  fi
  say "installation de $* (apt)"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null; then
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null
  fi
}

ensure_packages() {
  local bindir version
  if ! bindir="$(pg_bindir)"; then
    apt_install postgresql postgresql-contrib
    bindir="$(pg_bindir)"
  fi
  version="$(basename "$(dirname "$bindir")")"
  if ! ls /usr/share/postgresql/"$version"/extension/postgis.control >/dev/null 2>&1; then
    apt_install "postgresql-$version-postgis-3"
  fi
  echo "$bindir"
}

# PostgreSQL refuses to run as root: as root, the cluster belongs to the 'postgres' user.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

init_cluster() { # DIR PORT
  local dir="$1" port="$2" bindir
  bindir="$(ensure_packages)"
  if [ ! -s "$dir/PG_VERSION" ]; then
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    chmod 700 "$dir"
    say "création du cluster privé dans $dir (port $port)"
    as_owner "$bindir/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    cat >>"$dir/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 200
shared_buffers = 512MB
work_mem = 32MB
maintenance_work_mem = 512MB
fsync = on
synchronous_commit = on
logging_collector = off
EOF
  fi
}

ctl() { # DIR start|stop|status
  local dir="$1" action="$2" bindir
  bindir="$(pg_bindir)"
  case "$action" in
    start)
      if as_owner "$bindir/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
        return 0
      fi
      as_owner "$bindir/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 start >/dev/null
      ;;
    stop)
      if as_owner "$bindir/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
        as_owner "$bindir/pg_ctl" -D "$dir" -m fast -w stop >/dev/null
      fi
      ;;
    status)
      as_owner "$bindir/pg_ctl" -D "$dir" status
      ;;
  esac
}

case "${1:-}" in
  start)
    port="$(private_port)"
    init_cluster "$PGDIR" "$port"
    [ -s "$PORT_FILE" ] || echo "$port" >"$PORT_FILE"
    ctl "$PGDIR" start
    ;;
  stop)
    if [ -s "$PGDIR/PG_VERSION" ]; then ctl "$PGDIR" stop; say "cluster privé arrêté"; fi
    ;;
  status)
    [ -s "$PGDIR/PG_VERSION" ] && ctl "$PGDIR" status || { echo "pas de cluster privé"; exit 3; }
    ;;
  url)
    echo "postgresql://postgres@127.0.0.1:$(private_port)/${2:-cpts}"
    ;;
  disposable)
    init_cluster "$2" "$3"
    ctl "$2" start
    ;;
  ctl)
    ctl "$2" "$3"
    ;;
  *)
    sed -n '2,13p' "$0"; exit 2
    ;;
esac
