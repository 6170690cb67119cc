#!/usr/bin/env bash
# gen_pki.sh OUTDIR -- generate the test PKI used by the HTTPS integration tests.
#
# Produces in OUTDIR (all PEM):
#   ca-ec.crt/.key          root CA, EC P-256
#   ca-rsa.crt/.key         root CA, RSA-2048
#   ca-other.crt/.key       root CA, EC P-256, never trusted by the tests
#   server-ec.crt/.key      EC P-256 leaf by ca-ec, SAN DNS:localhost,IP:127.0.0.1
#   server-rsa.crt/.key     RSA-2048 leaf by ca-rsa, same SAN
#   server-expired.crt/.key leaf by ca-ec, SAN localhost, valid 2020-01-01..2020-02-01
#   server-wronghost.crt/.key leaf by ca-ec, SAN DNS:other.example only
#   server-othca.crt/.key   localhost leaf by ca-other
#   cadir/                  ca-ec.crt, ca-rsa.crt, README.txt (not PEM)
#   ca-bundle.pem           ca-other, ca-rsa, then ca-ec last (with comments)
#
# Current leaves are valid from one day ago for one year.  Idempotent: when
# every output exists and server-ec.crt is valid for at least another day,
# nothing is done; otherwise everything is regenerated from scratch (so the
# chain is always consistent).
set -u -o pipefail

die() { echo "gen_pki.sh: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: gen_pki.sh OUTDIR"
OUT=$1
command -v openssl >/dev/null 2>&1 || die "openssl CLI not found (required)"

OUTPUTS=(ca-ec.crt ca-ec.key ca-rsa.crt ca-rsa.key ca-other.crt ca-other.key
    server-ec.crt server-ec.key server-rsa.crt server-rsa.key
    server-expired.crt server-expired.key server-wronghost.crt server-wronghost.key
    server-othca.crt server-othca.key cadir/ca-ec.crt cadir/ca-rsa.crt
    cadir/README.txt ca-bundle.pem)

# all_present: true when every output exists and the main leaf is not stale.
all_present() {
    local f
    for f in "${OUTPUTS[@]}"; do
        [ -s "$OUT/$f" ] || return 1
    done
    openssl x509 -in "$OUT/server-ec.crt" -noout -checkend 86400 >/dev/null 2>&1
}

if all_present; then
    exit 0
fi

mkdir -p "$OUT" || die "cannot create $OUT"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gen_pki.XXXXXX") || die "mktemp failed"
trap 'rm -rf "$WORK"' EXIT

# Minimal `openssl ca` configuration: lets us set explicit validity windows
# (openssl 3.0's `x509 -req` has no -not_before).  Extensions read SAN and
# key usage from the environment so one section serves every leaf.
mkdir -p "$WORK/newcerts"
: >"$WORK/index.txt"
cat >"$WORK/ca.cnf" <<EOF
[ ca ]
default_ca = testca

[ testca ]
dir            = $WORK
database       = \$dir/index.txt
new_certs_dir  = \$dir/newcerts
default_md     = sha256
policy         = policy_any
unique_subject = no
copy_extensions = none
rand_serial    = yes
email_in_dn    = no
preserve       = yes

[ policy_any ]
commonName = supplied

[ req ]
distinguished_name = req_dn
prompt = no
[ req_dn ]
CN = unused

[ v3_ca ]
basicConstraints       = critical,CA:TRUE
keyUsage               = critical,keyCertSign,cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ v3_server ]
basicConstraints       = critical,CA:FALSE
keyUsage               = critical,\$ENV::KU
extendedKeyUsage       = serverAuth
subjectAltName         = \$ENV::SAN
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid,issuer
EOF

# ossl_date OFFSET: UTC time in openssl's GeneralizedTime form, e.g. "1 day ago".
ossl_date() { date -u -d "$1" +%Y%m%d%H%M%SZ; }

# genkey NAME ec|rsa: write NAME.key.
genkey() {
    local name=$1 kind=$2
    case $kind in
        ec) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
                -out "$OUT/$name.key" 2>/dev/null ;;
        rsa) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
                -out "$OUT/$name.key" 2>/dev/null ;;
    esac || die "key generation failed for $name"
    chmod 600 "$OUT/$name.key"
}

# make_csr NAME CN: write $WORK/NAME.csr for NAME.key.
make_csr() {
    openssl req -new -config "$WORK/ca.cnf" -key "$OUT/$1.key" -subj "/CN=$2" \
        -out "$WORK/$1.csr" >"$WORK/$1.csr.log" 2>&1 \
        || { cat "$WORK/$1.csr.log" >&2; die "CSR failed for $1"; }
}

# make_ca NAME ec|rsa CN: self-signed root valid from 2 days ago for 10 years.
make_ca() {
    local name=$1 kind=$2 cn=$3
    genkey "$name" "$kind"
    make_csr "$name" "$cn"
    openssl ca -batch -config "$WORK/ca.cnf" -selfsign -notext \
        -keyfile "$OUT/$name.key" -in "$WORK/$name.csr" \
        -startdate "$(ossl_date '2 days ago')" -enddate "$(ossl_date '+3650 days')" \
        -extensions v3_ca -out "$OUT/$name.crt" >"$WORK/$name.log" 2>&1 \
        || { cat "$WORK/$name.log" >&2; die "CA generation failed for $name"; }
}

# make_leaf NAME ec|rsa CA SAN START END: leaf signed by CA.
make_leaf() {
    local name=$1 kind=$2 ca=$3 san=$4 start=$5 end=$6 ku cn
    genkey "$name" "$kind"
    # The CN mirrors the first SAN entry (the SAN is what clients check).
    cn=${san#DNS:}
    cn=${cn%%,*}
    make_csr "$name" "$cn"
    if [ "$kind" = rsa ]; then ku="digitalSignature,keyEncipherment"; else ku="digitalSignature"; fi
    SAN=$san KU=$ku openssl ca -batch -config "$WORK/ca.cnf" -notext \
        -cert "$OUT/$ca.crt" -keyfile "$OUT/$ca.key" -in "$WORK/$name.csr" \
        -startdate "$start" -enddate "$end" \
        -extensions v3_server -out "$OUT/$name.crt" >"$WORK/$name.log" 2>&1 \
        || { cat "$WORK/$name.log" >&2; die "certificate generation failed for $name"; }
}

# The config file references $ENV::SAN and $ENV::KU; they must always be set
# (openssl refuses to load a config naming an unset variable).
export SAN="DNS:localhost" KU="digitalSignature"

NOW_START=$(ossl_date '1 day ago')
NOW_END=$(ossl_date '+365 days')
LOCAL_SAN="DNS:localhost,IP:127.0.0.1"

rm -rf "$OUT/cadir"
make_ca ca-ec ec "countly-sync test root CA (EC)"
make_ca ca-rsa rsa "countly-sync test root CA (RSA)"
make_ca ca-other ec "countly-sync untrusted other CA"
make_leaf server-ec ec ca-ec "$LOCAL_SAN" "$NOW_START" "$NOW_END"
make_leaf server-rsa rsa ca-rsa "$LOCAL_SAN" "$NOW_START" "$NOW_END"
make_leaf server-expired ec ca-ec "DNS:localhost" 20200101000000Z 20200201000000Z
make_leaf server-wronghost ec ca-ec "DNS:other.example" "$NOW_START" "$NOW_END"
make_leaf server-othca ec ca-other "$LOCAL_SAN" "$NOW_START" "$NOW_END"

# CA folder: two roots as separate files plus a non-PEM file to be ignored.
mkdir -p "$OUT/cadir"
cp "$OUT/ca-ec.crt" "$OUT/ca-rsa.crt" "$OUT/cadir/"
printf 'This folder holds the trusted test roots.\nThis file is not a certificate.\n' \
    >"$OUT/cadir/README.txt"

# Bundle: unrelated certificates first, the EC root last, comment lines between.
{
    echo "# countly-sync test bundle: ca-other (untrusted, unrelated)"
    cat "$OUT/ca-other.crt"
    echo
    echo "# ca-rsa"
    cat "$OUT/ca-rsa.crt"
    echo
    echo "# ca-ec (last on purpose)"
    cat "$OUT/ca-ec.crt"
} >"$OUT/ca-bundle.pem"

all_present || die "outputs incomplete after generation"
exit 0
