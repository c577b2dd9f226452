#!/usr/bin/env bash
# Upload benchmark: the stock `age` CLI encrypting a file to disk versus sealdrop receiving the
# same file with `curl -F` (plain HTTP on loopback, and HTTPS), interleaved A B C A B C …,
# reporting medians and the server's peak RSS (VmHWM) per upload.
#
#   bash benches/upload.sh                # 1 GiB, 3 rounds
#   SIZE_MIB=256 ROUNDS=5 bash benches/upload.sh
#
# Needs: a release build (built here), Debian's `age` and `curl`. Work files go to BENCH_DIR
# (default: a new folder under target/), on the same disk as the data directory.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MIB=${SIZE_MIB:-1024}
ROUNDS=${ROUNDS:-3}
BENCH_DIR=${BENCH_DIR:-target/bench-upload}
command -v age >/dev/null || { echo "error: needs Debian's age package (apt-get install age)" >&2; exit 1; }
command -v curl >/dev/null || { echo "error: needs curl" >&2; exit 1; }

cargo build --release --quiet
BIN=$PWD/target/release/sealdrop
rm -rf "$BENCH_DIR"; mkdir -p "$BENCH_DIR"; cd "$BENCH_DIR"
head -c $((SIZE_MIB << 20)) /dev/urandom > input.bin
"$BIN" keygen -o identity.txt > recipient.txt 2>/dev/null
RECIPIENT=$(cat recipient.txt)
"$BIN" demo --dir tls --listen 127.0.0.1:0 --setup-only > /dev/null

start_server() { # $1 = http|https ; sets $URL and $SERVER_PID
    local mode=$1 dir=srv-$1
    rm -rf "$dir"; mkdir -p "$dir/keys"; echo "$RECIPIENT" > "$dir/keys/recipients.txt"
    {
        echo '[server]'; echo 'listen = "127.0.0.1:0"'
        if [ "$mode" = https ]; then echo "tls_cert = \"$PWD/tls/cert.pem\""; echo "tls_key = \"$PWD/tls/key.pem\""; fi
        echo '[storage]'; echo 'min_free_bytes = "256MiB"'
        echo '[log]'; echo 'level = "warn"'
    } > "$dir/sealdrop.toml"
    "$BIN" serve --config "$dir/sealdrop.toml" > "$dir/out.log" 2> "$dir/err.log" &
    SERVER_PID=$!
    for _ in $(seq 100); do grep -q "listening on" "$dir/out.log" 2>/dev/null && break; sleep 0.05; done
    URL=$(sed -n 's/^sealdrop: listening on //p' "$dir/out.log" | head -1)
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
now() { date +%s.%N; }
calc() { awk "BEGIN { print $1 }"; }

: > age.times; : > http.times; : > https.times; : > http.rss; : > https.rss
for round in $(seq "$ROUNDS"); do
    rm -f out.age; sync
    t0=$(now); age -r "$RECIPIENT" -o out.age input.bin; t1=$(now)
    calc "$t1 - $t0" >> age.times
    sync
    rm -f out.age
    for mode in http https; do
        start_server $mode
        sync
        t0=$(now)
        code=$(curl -s -k -o resp.json -w '%{http_code}' -F category=vulnerability -F file=@input.bin "${URL}api/v1/submissions")
        t1=$(now)
        [ "$code" = 201 ] || { echo "error: upload answered $code: $(cat resp.json)" >&2; kill $SERVER_PID; exit 1; }
        calc "$t1 - $t0" >> $mode.times
        awk '/VmHWM/ {print $2}' /proc/$SERVER_PID/status >> $mode.rss
        kill $SERVER_PID; wait $SERVER_PID 2>/dev/null || true
        rm -rf srv-$mode
    done
    echo "round $round: age $(tail -1 age.times)s, http $(tail -1 http.times)s, https $(tail -1 https.times)s" >&2
done

a=$(median < age.times); h=$(median < http.times); s=$(median < https.times)
hr=$(median < http.rss); sr=$(median < https.rss)
mibs() { awk "BEGIN { printf \"%d\", $SIZE_MIB / $1 }"; }
echo
echo "| ${SIZE_MIB} MiB, median of $ROUNDS | time (s) | MiB/s | ÷ age CLI | server peak RSS |"
echo "|---|---|---|---|---|"
printf '| `age -r` to a file | %.2f | %s | 1.00 | – |\n' "$a" "$(mibs "$a")"
printf '| sealdrop, plain HTTP | %.2f | %s | %.2f | %s MiB |\n' "$h" "$(mibs "$h")" "$(calc "$a / $h")" "$((hr / 1024))"
printf '| sealdrop, HTTPS | %.2f | %s | %.2f | %s MiB |\n' "$s" "$(mibs "$s")" "$(calc "$a / $s")" "$((sr / 1024))"
