#!/usr/bin/env bash
# Starts a throw-away PostgreSQL cluster for the test suite, listening on 127.0.0.1 only, and
# prints its libpq connection string (for SEALDROPTEST_POSTGRES). `stop DIR` stops it. With
# `tls`, the server speaks TLS with a certificate for 127.0.0.1 from a CA made for it
# (DIR/tls/ca.pem), and DIR/tls/other-ca.pem is a CA that did not sign it.
#   tests/support/postgres.sh start DIR PORT [tls]
#   tests/support/postgres.sh stop DIR
set -euo pipefail
cmd=$1
dir=$(realpath -m "$2")
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$bin" ]; then
    echo "PostgreSQL is not installed (Debian: apt-get install postgresql)" >&2
    exit 1
fi
# PostgreSQL refuses to run as root: the cluster then belongs to the postgres user.
as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
case $cmd in
start)
    port=$3
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; fi
    if [ ! -d "$dir/data" ]; then
        as_owner "$bin/initdb" -D "$dir/data" -A trust -U sealdrop --no-sync >"$dir/initdb.log"
    fi
    options="-h 127.0.0.1 -p $port -k $dir -c max_connections=300"
    if [ "${4:-}" = tls ]; then
        t="$dir/tls"
        "$(dirname "$0")/test-ca.sh" "$t"
        if [ "$(id -u)" = 0 ]; then chown -R postgres "$t"; fi
        options="$options -c ssl=on -c ssl_cert_file=$t/server.crt -c ssl_key_file=$t/server.key"
    fi
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "$options" start >/dev/null
    echo "host=127.0.0.1 port=$port user=sealdrop dbname=postgres"
    ;;
stop)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
*)
    echo "usage: $0 start DIR PORT | stop DIR" >&2
    exit 2
    ;;
esac
