#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster for the decision-log tests, and print the URL to use.
# Usage: eval "$(bash .ci/postgres.sh start DIR)"   ... tests ...   bash .ci/postgres.sh stop DIR
# PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres` user that
# Debian's package creates. It listens on 127.0.0.1 only, with trust for local connections.
set -euo pipefail
cmd=${1:?start|stop}; dir=${2:?cluster directory}; port=${PGPORT_TEST:-54329}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bin" ] || { echo "postgres.sh: no PostgreSQL server installed (apt-get install postgresql)" >&2; exit 1; }
as() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case "$cmd" in
  start)
    mkdir -p "$dir"; [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    as "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-instructions >/dev/null
    as "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
       -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=on -c max_connections=50" start >/dev/null
    echo "export POLICYENGINE_TEST_POSTGRES=postgresql://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    as "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null || true
    ;;
  *) echo "postgres.sh: start or stop" >&2; exit 2 ;;
esac
