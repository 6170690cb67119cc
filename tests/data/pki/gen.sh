#!/bin/sh
# gen.sh - regenerates the test PKI used by tests/unit/test_tls_ca.c.
# Our own throwaway certificates (private keys are not kept); validity 100 years.
# Run from this folder: sh gen.sh
set -eu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
days=36500

ec_ca() { # ec_ca NAME SUBJECT [OUT_DIR]
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$tmp/$1.key" -out "${3:-.}/$1.pem" -subj "$2" -days $days -sha256 \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
}

leaf() { # leaf NAME SUBJECT CA_CERT CA_KEY
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$tmp/$1.key" -out "$tmp/$1.csr" -subj "$2"
    printf 'basicConstraints=CA:FALSE\nsubjectAltName=DNS:countly.test\n' >"$tmp/$1.ext"
    openssl x509 -req -in "$tmp/$1.csr" -CA "$3" -CAkey "$4" -set_serial "0x$(openssl rand -hex 8)" \
        -days $days -sha256 -extfile "$tmp/$1.ext" -out "$1.pem"
}

ec_ca ca-a "/O=countly-sync tests/CN=Test Root A"
ec_ca ca-b "/O=countly-sync tests/CN=Test Root B"
ec_ca ca-c "/O=countly-sync tests/CN=Test Root C"
# the same subject as ca-a with a new key: a re-issued root
ec_ca ca-a-reissued "/O=countly-sync tests/CN=Test Root A"
# a CA that is in no bundle
ec_ca outside "/O=countly-sync tests/CN=Outside Root" "$tmp"

leaf leaf-a "/O=countly-sync tests/CN=leaf signed by Root A" ca-a.pem "$tmp/ca-a.key"
leaf leaf-b "/O=countly-sync tests/CN=leaf signed by Root B" ca-b.pem "$tmp/ca-b.key"
leaf leaf-outside "/O=countly-sync tests/CN=leaf signed by Outside Root" \
    "$tmp/outside.pem" "$tmp/outside.key"

# a big real root: RSA-4096, DER well over 1400 bytes (still under TLS_CA_DER_MAX)
openssl req -x509 -new -newkey rsa:4096 -nodes -keyout "$tmp/ca-rsa4096.key" \
    -out ca-rsa4096.pem -days $days -sha256 \
    -subj "/C=EE/O=countly-sync tests/OU=Big Roots Department/CN=Test Root RSA 4096" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
