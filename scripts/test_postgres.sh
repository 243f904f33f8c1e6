#!/usr/bin/env bash
# Start the PostgreSQL + PostGIS server the store's tests use, and print the line that points them at it:
#
#     eval "$(sudo scripts/test_postgres.sh)"      # then: make test
#
# Needs Debian's packages `postgresql` and `postgresql-postgis` (on bookworm: postgresql-15 and
# postgresql-15-postgis-3; .ci/run installs them) and root, or the postgres user, to manage the cluster.
#
# What it does, each step only when not already done (a second run changes nothing and prints the same line):
#   * a cluster of its own, "<major>/planner_test" (pg_createcluster), listening on 127.0.0.1 only, on the
#     first free port from 5432 (or $PLANNER_PG_PORT); durability off (fsync), since it only holds test data;
#     a developer's own clusters are left alone;
#   * starts it (pg_ctlcluster) and waits until it accepts connections (pg_isready, up to 60 s);
#   * a login role "planner_test" (password "planner_test", CREATEDB, not a superuser) owning a database
#     "planner_test", and the PostGIS extension created in template1, so every database the role creates
#     (tests/conftest.py makes one per test) has PostGIS without needing a superuser.
# The only line on stdout is the export; progress goes to stderr.
set -euo pipefail

CLUSTER=planner_test
ROLE=planner_test
PASSWORD=planner_test
DATABASE=planner_test

say() { echo "test_postgres: $*" >&2; }
die() {
  say "$*"
  exit 1
}

as_postgres() {
  if [ "$(id -un)" = postgres ]; then
    "$@"
  else
    runuser -u postgres -- "$@"
  fi
}

[ "$(id -u)" = 0 ] || [ "$(id -un)" = postgres ] ||
  die "run as root or as the postgres user (sudo scripts/test_postgres.sh)"
command -v pg_createcluster >/dev/null 2>&1 ||
  die "PostgreSQL is missing: apt-get install postgresql postgresql-postgis"

# The newest installed server that has PostGIS.
major=""
for dir in $(ls -d /usr/lib/postgresql/*/ 2>/dev/null | sort -t/ -k5 -n -r); do
  v=$(basename "$dir")
  if [ -x "$dir/bin/postgres" ] && [ -f "/usr/share/postgresql/$v/extension/postgis.control" ]; then
    major=$v
    break
  fi
done
[ -n "$major" ] || die "no PostgreSQL server with PostGIS: apt-get install postgresql postgresql-postgis"

# pg_lsclusters -h: "version cluster port status owner datadir logfile".
cluster_line() { pg_lsclusters -h | awk -v v="$major" -v c="$CLUSTER" '$1 == v && $2 == c'; }

if [ -z "$(cluster_line)" ]; then
  port_opt=()
  [ -n "${PLANNER_PG_PORT:-}" ] && port_opt=(--port "$PLANNER_PG_PORT")
  say "creating cluster $major/$CLUSTER"
  pg_createcluster "${port_opt[@]}" --encoding UTF8 --locale C.UTF-8 "$major" "$CLUSTER" >&2
fi
port=$(cluster_line | awk '{print $3}')

# The test settings, in the cluster's conf.d (rewritten when they differ; the server restarts to read them).
conf=/etc/postgresql/$major/$CLUSTER/conf.d/planner_test.conf
settings="# Written by scripts/test_postgres.sh: a test server, this machine only, no durability.
listen_addresses = '127.0.0.1'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off"
if [ "$(cat "$conf" 2>/dev/null)" != "$settings" ]; then
  say "writing $conf"
  printf '%s\n' "$settings" >"$conf"
  chown postgres:postgres "$conf"
  if cluster_line | grep -q online; then
    pg_ctlcluster "$major" "$CLUSTER" restart >&2
  fi
fi

if ! cluster_line | grep -q online; then
  say "starting cluster $major/$CLUSTER on 127.0.0.1:$port"
  pg_ctlcluster "$major" "$CLUSTER" start >&2
fi
for _ in $(seq 1 120); do
  pg_isready -q -h 127.0.0.1 -p "$port" && break
  sleep 0.5
done
pg_isready -q -h 127.0.0.1 -p "$port" || die "the server on 127.0.0.1:$port does not accept connections"

psql_su() { PGOPTIONS=--client-min-messages=warning as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$port" "$@" >&2; }

# Role, its database, and PostGIS in template1 (idempotent).
psql_su -d postgres <<SQL
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$ROLE') THEN
    CREATE ROLE $ROLE LOGIN CREATEDB PASSWORD '$PASSWORD';
  END IF;
END
\$\$;
SQL
if [ -z "$(as_postgres psql -X -tA -p "$port" -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'")" ]; then
  psql_su -d postgres -c "CREATE DATABASE $DATABASE OWNER $ROLE"
fi
# Dropping a test's database WITH (FORCE) ends the connections to it, an autovacuum worker's too: that
# needs pg_signal_backend (still no superuser).
psql_su -d postgres -c "GRANT pg_signal_backend TO $ROLE"
psql_su -d template1 -c "CREATE EXTENSION IF NOT EXISTS postgis"
psql_su -d "$DATABASE" -c "CREATE EXTENSION IF NOT EXISTS postgis"

echo "export PLANNER_TEST_DB_URL=postgresql+psycopg://$ROLE:$PASSWORD@127.0.0.1:$port/$DATABASE"
