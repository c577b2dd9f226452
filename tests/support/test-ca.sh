#!/usr/bin/env bash
# Makes, once, the TLS files of a test server in DIR: a CA (ca.pem), a certificate for
# 127.0.0.1 that it signed (server.crt, server.key, mode 0600) and a second CA that signed
# nothing (other-ca.pem), all P-256, valid for two days.
#   tests/support/test-ca.sh DIR
set -euo pipefail
t=$1
mkdir -p "$t"
if [ -f "$t/server.crt" ]; then exit 0; fi
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
for ca in ca other-ca; do
    openssl req -x509 "${ec[@]}" -keyout "$t/$ca.key" -out "$t/$ca.pem" -days 2 \
        -subj "/CN=sealdrop test $ca" 2>/dev/null
done
openssl req "${ec[@]}" -keyout "$t/server.key" -out "$t/server.csr" \
    -subj "/CN=127.0.0.1" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' >"$t/ext.cnf"
openssl x509 -req -in "$t/server.csr" -CA "$t/ca.pem" -CAkey "$t/ca.key" \
    -CAcreateserial -out "$t/server.crt" -days 2 -extfile "$t/ext.cnf" 2>/dev/null
chmod 600 "$t/server.key"
