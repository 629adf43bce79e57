#!/usr/bin/env bash
# Install PostgreSQL 15 (Debian bookworm) + pgvector 0.8.x built from Debian's
# trixie *source* package, and make sure a cluster is running on 127.0.0.1:5432
# with trust auth for local TCP connections.
#
# Idempotent: safe on a fresh machine and on a machine where it already ran
# (including with the cluster already running).
#
# stdout: exactly one line, the connection URL (all logging goes to stderr), so
#         callers can do:  TEST_DATABASE_URL="$(bash .ci/install-postgres.sh)"
#
# Env knobs:
#   CI_APT_UPDATED=1   skip the general `apt-get update` (.ci/run already did it)
set -euo pipefail

# Keep stdout for the final URL only; everything else goes to stderr.
# NB: the body runs in main() with fd 3 closed: otherwise the postmaster started
# below inherits fd 3 and a caller doing URL="$(bash install-postgres.sh)" would
# wait forever for EOF on its pipe.
exec 3>&1 1>&2

PG_MAJOR=15
PG_PORT=5432
PG_HOST=127.0.0.1
PG_CLUSTER=main
PG_BIN="/usr/lib/postgresql/${PG_MAJOR}/bin"
PG_CONFIG="${PG_BIN}/pg_config"
PG_CONF_DIR="/etc/postgresql/${PG_MAJOR}/${PG_CLUSTER}"
PGVECTOR_SRC_SUITE=trixie
PGVECTOR_SRC_LIST=/etc/apt/sources.list.d/ci-pgvector-${PGVECTOR_SRC_SUITE}-src.sources
URL="postgres://postgres@${PG_HOST}:${PG_PORT}/postgres"

export DEBIAN_FRONTEND=noninteractive
# A cluster auto-created by postgresql-common's postinst inherits the locale of
# this environment; make sure it is UTF8 (not SQL_ASCII) even if LANG is unset.
export LANG=C.UTF-8 LC_ALL=C.UTF-8
unset LANGUAGE || true

log() { printf '[install-postgres] %s\n' "$*"; }
die() { printf '[install-postgres] ERROR: %s\n' "$*"; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root"

APT_OPTS=(-y -q -o Dpkg::Options::=--force-confold -o Dpkg::Options::=--force-confdef
  -o Dpkg::Use-Pty=0 -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)

pkg_installed() { # all given packages installed?
  local p
  for p in "$@"; do
    dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || return 1
  done
}

# Run a command with every fd above 2 closed (anything it starts - postgres via
# pg_ctlcluster, maintainer scripts - must not keep our callers' pipes open).
run_closefds() {
  (
    for fd in /proc/self/fd/*; do
      fd=${fd##*/}
      if [ "$fd" -gt 2 ] 2>/dev/null; then eval "exec ${fd}>&-" 2>/dev/null || true; fi
    done
    exec "$@"
  )
}

as_postgres() {
  if command -v runuser >/dev/null 2>&1; then runuser -u postgres -- "$@"
  else su -s /bin/sh postgres -c "$(printf '%q ' "$@")"; fi
}

# --------------------------------------------------------------------------
# Derive the Debian mirror URL of the running release from the existing apt
# sources (one-line *.list format and deb822 *.sources format).
# --------------------------------------------------------------------------
codename() {
  local c=""
  # shellcheck source=/dev/null
  if [ -r /etc/os-release ]; then c=$(. /etc/os-release && echo "${VERSION_CODENAME:-}"); fi
  echo "${c:-bookworm}"
}

mirror_from_oneline() { # $1=codename, files...
  local cn=$1; shift
  awk -v cn="$cn" '
    /^[[:space:]]*#/ { next }
    $1 == "deb" || $1 == "deb-src" {
      i = 2
      if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }   # skip [options]
      if ($(i + 1) == cn && $i ~ /^(https?|ftp):\/\//) { print $i; exit }
    }' "$@" 2>/dev/null | head -n1
}

mirror_from_deb822() { # $1=codename, files...
  local cn=$1; shift
  local f out
  for f in "$@"; do
    out=$(awk -v cn="$cn" '
      function flush(   n, k, s, u) {
        if (types ~ /(^|[[:space:]])deb(-src)?([[:space:]]|$)/ && enabled != "no") {
          n = split(suites, s, /[[:space:]]+/)
          for (k = 1; k <= n; k++) if (s[k] == cn) {
            split(uris, u, /[[:space:]]+/)
            if (u[1] ~ /^(https?|ftp):\/\//) { print u[1]; done = 1; exit }
          }
        }
        types = suites = uris = enabled = ""
      }
      /^[[:space:]]*#/ { next }
      /^[[:space:]]*$/ { flush(); next }
      /^[[:space:]]/   { next }                 # continuation line (e.g. inline key)
      {
        p = index($0, ":"); if (p == 0) next
        key = tolower(substr($0, 1, p - 1)); val = substr($0, p + 1)
        gsub(/^[[:space:]]+|[[:space:]]+$/, "", val)
        if (key == "types") types = val
        else if (key == "uris") uris = val
        else if (key == "suites") suites = val
        else if (key == "enabled") enabled = tolower(val)
      }
      END { if (!done) flush() }' "$f" 2>/dev/null | head -n1) || true
    if [ -n "$out" ]; then echo "$out"; return 0; fi
  done
}

derive_mirror() {
  local cn m="" lists=() sources=() f
  cn=$(codename)
  [ -f /etc/apt/sources.list ] && lists+=(/etc/apt/sources.list)
  for f in /etc/apt/sources.list.d/*.list; do [ -f "$f" ] && lists+=("$f"); done
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && [ "$f" != "$PGVECTOR_SRC_LIST" ] && sources+=("$f")
  done
  if [ ${#sources[@]} -gt 0 ]; then m=$(mirror_from_deb822 "$cn" "${sources[@]}"); fi
  if [ -z "$m" ] && [ ${#lists[@]} -gt 0 ]; then m=$(mirror_from_oneline "$cn" "${lists[@]}"); fi
  [ -n "$m" ] || die "could not find a '$cn' Debian source in /etc/apt/sources.list{,.d/*.list,.d/*.sources}"
  echo "${m%/}"
}

main() {
# --------------------------------------------------------------------------
# 1. Packages
# --------------------------------------------------------------------------
PKGS=("postgresql-${PG_MAJOR}" "postgresql-client-${PG_MAJOR}" "postgresql-server-dev-${PG_MAJOR}"
  postgresql-common build-essential dpkg-dev ca-certificates xz-utils)

MISSING=()
for p in "${PKGS[@]}"; do pkg_installed "$p" || MISSING+=("$p"); done
if [ ${#MISSING[@]} -eq 0 ]; then
  log "packages already installed: ${PKGS[*]}"
else
  # Only install what is missing (naming an installed package would upgrade
  # it), but keep server and server headers together so they end up at the
  # same minor version.
  case " ${MISSING[*]} " in
    *" postgresql-${PG_MAJOR} "* | *" postgresql-server-dev-${PG_MAJOR} "*)
      MISSING+=("postgresql-${PG_MAJOR}" "postgresql-server-dev-${PG_MAJOR}") ;;
  esac
  mapfile -t MISSING < <(printf '%s\n' "${MISSING[@]}" | sort -u)
  if [ "${CI_APT_UPDATED:-0}" != 1 ]; then
    log "apt-get update"
    apt-get update -qq -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3
  fi
  log "installing ${MISSING[*]}"
  run_closefds apt-get install "${APT_OPTS[@]}" --no-install-recommends "${MISSING[@]}"
fi
[ -x "$PG_CONFIG" ] || die "$PG_CONFIG not found after install"

# --------------------------------------------------------------------------
# 2. pgvector 0.8.x from Debian's trixie source package
# --------------------------------------------------------------------------
PG_SHAREDIR=$("$PG_CONFIG" --sharedir)
PG_PKGLIBDIR=$("$PG_CONFIG" --pkglibdir)

ensure_trixie_src() {
  local mirror keyring=/usr/share/keyrings/debian-archive-keyring.gpg content
  mirror=$(derive_mirror)
  log "Debian mirror (from existing apt sources): $mirror"
  content="# Managed by .ci/install-postgres.sh: source packages only (pgvector 0.8.x).
Types: deb-src
URIs: ${mirror}
Suites: ${PGVECTOR_SRC_SUITE}
Components: main"
  [ -f "$keyring" ] && content+=$'\n'"Signed-By: ${keyring}"
  if [ ! -f "$PGVECTOR_SRC_LIST" ] || [ "$(cat "$PGVECTOR_SRC_LIST")" != "$content" ]; then
    log "writing $PGVECTOR_SRC_LIST"
    printf '%s\n' "$content" >"$PGVECTOR_SRC_LIST"
  fi
  # Refresh only this source (cheap; leaves the other lists untouched).
  log "apt-get update (only ${PGVECTOR_SRC_SUITE} deb-src)"
  apt-get update -qq -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3 \
    -o Dir::Etc::SourceList="$PGVECTOR_SRC_LIST" -o Dir::Etc::SourceParts=- \
    -o APT::Get::List-Cleanup=0
}

if [ -f "$PG_SHAREDIR/extension/vector.control" ] && [ -f "$PG_PKGLIBDIR/vector.so" ]; then
  log "pgvector already installed for PG ${PG_MAJOR} ($(grep -E '^default_version' "$PG_SHAREDIR/extension/vector.control" | tr -d "'" ))"
else
  ensure_trixie_src
  BUILD_DIR=$(mktemp -d /tmp/pgvector-build.XXXXXX)
  trap 'rm -rf "$BUILD_DIR"' EXIT
  # let apt's sandbox user write the download (avoids the "unsandboxed" warning)
  if id _apt >/dev/null 2>&1; then chown _apt:root "$BUILD_DIR"; chmod 0755 "$BUILD_DIR"; fi
  log "apt-get source pgvector/${PGVECTOR_SRC_SUITE} in $BUILD_DIR"
  (cd "$BUILD_DIR" && apt-get source -q "pgvector/${PGVECTOR_SRC_SUITE}")
  SRC_DIR=$(find "$BUILD_DIR" -mindepth 1 -maxdepth 1 -type d -name 'pgvector-*' | head -n1)
  [ -n "$SRC_DIR" ] || die "apt-get source pgvector did not produce a source directory"
  case "$(basename "$SRC_DIR")" in
    pgvector-0.8.*) ;;
    *) die "expected pgvector 0.8.x, got $(basename "$SRC_DIR")" ;;
  esac
  log "building $(basename "$SRC_DIR") against $("$PG_CONFIG" --version)"
  # OPTFLAGS= : no -march=native (portable binary, same as Debian's own build).
  make -C "$SRC_DIR" -j"$(nproc)" PG_CONFIG="$PG_CONFIG" OPTFLAGS= >/dev/null
  make -C "$SRC_DIR" PG_CONFIG="$PG_CONFIG" OPTFLAGS= install >/dev/null
  [ -f "$PG_SHAREDIR/extension/vector.control" ] || die "vector.control missing after make install"
  log "pgvector installed into $PG_PKGLIBDIR / $PG_SHAREDIR/extension"
fi

# --------------------------------------------------------------------------
# 3. Cluster on 127.0.0.1:5432 with trust auth for local TCP
# --------------------------------------------------------------------------
install -d -o postgres -g postgres -m 2775 /var/run/postgresql

cluster_exists() { [ -f "$PG_CONF_DIR/postgresql.conf" ] && [ -f "/var/lib/postgresql/${PG_MAJOR}/${PG_CLUSTER}/PG_VERSION" ]; }
cluster_running() { pg_ctlcluster "$PG_MAJOR" "$PG_CLUSTER" status >/dev/null 2>&1; }

if ! cluster_exists; then
  log "creating cluster ${PG_MAJOR}/${PG_CLUSTER} (UTF8, C.UTF-8)"
  pg_createcluster --port="$PG_PORT" --locale=C.UTF-8 --encoding=UTF8 "$PG_MAJOR" "$PG_CLUSTER"
fi

NEED_RESTART=0
NEED_RELOAD=0

# CI settings drop-in (postgresql.conf has include_dir = 'conf.d').
CI_CONF="$PG_CONF_DIR/conf.d/90-ci.conf"
CI_CONF_CONTENT="# Managed by .ci/install-postgres.sh (CI/test database: durability not needed)
listen_addresses = 'localhost'
port = ${PG_PORT}
fsync = off
synchronous_commit = off
full_page_writes = off"
install -d -o postgres -g postgres "$PG_CONF_DIR/conf.d"
if [ ! -f "$CI_CONF" ] || [ "$(cat "$CI_CONF")" != "$CI_CONF_CONTENT" ]; then
  log "writing $CI_CONF"
  printf '%s\n' "$CI_CONF_CONTENT" >"$CI_CONF"
  chown postgres:postgres "$CI_CONF"
  NEED_RESTART=1
fi

# trust for TCP from loopback, placed before any other rule (first match wins).
HBA="$PG_CONF_DIR/pg_hba.conf"
HBA_MARK="# ci: trust loopback TCP (managed by .ci/install-postgres.sh)"
if ! grep -qxF "$HBA_MARK" "$HBA"; then
  log "adding loopback trust rules to $HBA"
  tmp=$(mktemp)
  {
    echo "$HBA_MARK"
    echo "host    all             all             127.0.0.1/32            trust"
    echo "host    all             all             ::1/128                 trust"
    echo "# ci: end"
    cat "$HBA"
  } >"$tmp"
  cat "$tmp" >"$HBA" # keep owner/permissions of the original file
  rm -f "$tmp"
  NEED_RELOAD=1
fi

if cluster_running; then
  # Restart if the packaged binaries were upgraded under a running server.
  running_ver=$(as_postgres psql -XAtq -p "$PG_PORT" -c 'SHOW server_version' 2>/dev/null | awk '{print $1}' || true)
  binary_ver=$("$PG_BIN/postgres" --version | awk '{print $3}')
  if [ -n "$running_ver" ] && [ "$running_ver" != "$binary_ver" ]; then
    log "running server $running_ver != installed $binary_ver"
    NEED_RESTART=1
  fi
  if [ "$NEED_RESTART" = 1 ]; then
    log "restarting cluster ${PG_MAJOR}/${PG_CLUSTER}"
    run_closefds pg_ctlcluster "$PG_MAJOR" "$PG_CLUSTER" restart
  elif [ "$NEED_RELOAD" = 1 ]; then
    log "reloading cluster ${PG_MAJOR}/${PG_CLUSTER}"
    run_closefds pg_ctlcluster "$PG_MAJOR" "$PG_CLUSTER" reload
  else
    log "cluster ${PG_MAJOR}/${PG_CLUSTER} already running"
  fi
else
  log "starting cluster ${PG_MAJOR}/${PG_CLUSTER}"
  run_closefds pg_ctlcluster "$PG_MAJOR" "$PG_CLUSTER" start
fi

for _ in $(seq 1 60); do
  pg_isready -q -h "$PG_HOST" -p "$PG_PORT" && break
  sleep 0.5
done
pg_isready -h "$PG_HOST" -p "$PG_PORT" >/dev/null || {
  tail -n 30 "/var/log/postgresql/postgresql-${PG_MAJOR}-${PG_CLUSTER}.log" || true
  die "PostgreSQL is not accepting connections on ${PG_HOST}:${PG_PORT}"
}

# --------------------------------------------------------------------------
# 4. Verify over TCP with the URL we hand out
# --------------------------------------------------------------------------
SCRATCH="ci_pgvector_check_$$"
SCRATCH_URL="postgres://postgres@${PG_HOST}:${PG_PORT}/${SCRATCH}"
export PGOPTIONS="-c client_min_messages=warning"
PSQL=(psql -X -q -v ON_ERROR_STOP=1)
"${PSQL[@]}" "$URL" -c "DROP DATABASE IF EXISTS ${SCRATCH} WITH (FORCE)" -c "CREATE DATABASE ${SCRATCH}"
verify_out=$("${PSQL[@]}" -At "$SCRATCH_URL" \
  -c "CREATE EXTENSION IF NOT EXISTS vector" \
  -c "SELECT 'vector ' || extversion FROM pg_extension WHERE extname = 'vector'" \
  -c "SELECT '[1,2,3]'::vector <-> '[3,2,1]'::vector" \
  -c "SELECT version()") || {
  "${PSQL[@]}" "$URL" -c "DROP DATABASE IF EXISTS ${SCRATCH} WITH (FORCE)" || true
  die "CREATE EXTENSION vector failed"
}
"${PSQL[@]}" "$URL" -c "DROP DATABASE IF EXISTS ${SCRATCH} WITH (FORCE)"
log "verified: $(echo "$verify_out" | tr '\n' '|')"
enc=$("${PSQL[@]}" -At "$URL" -c "SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = 'template1'")
[ "$enc" = UTF8 ] || log "WARNING: cluster encoding is $enc (not UTF8); Chinese text tests may misbehave"

log "PostgreSQL ${PG_MAJOR} + pgvector ready: $URL"
}

main 3>&-
echo "$URL" >&3
