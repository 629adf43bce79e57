#!/usr/bin/env bash
# Install Debian's chromium (/usr/bin/chromium) plus a font that renders
# Simplified Chinese, then smoke-test headless mode. Idempotent.
#
# Font choice: fonts-wqy-microhei (~1.6 MB download, ~5 MB installed) covers
# GB2312/GBK Simplified Chinese; fonts-wqy-zenhei is ~7.5 MB and
# fonts-noto-cjk ~57 MB. fonts-liberation gives metric-compatible Latin fonts.
#
# Env knobs:
#   CI_APT_UPDATED=1   skip `apt-get update` (.ci/run already did it)
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
log() { printf '[install-chromium] %s\n' "$*"; }
die() { printf '[install-chromium] ERROR: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root"

CHROMIUM=/usr/bin/chromium
PKGS=(chromium fonts-wqy-microhei fonts-liberation fontconfig)
APT_OPTS=(-y -q -o Dpkg::Options::=--force-confold -o Dpkg::Options::=--force-confdef
  -o Dpkg::Use-Pty=0 -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)

pkg_installed() {
  dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null | grep -qx installed
}

MISSING=()
for p in "${PKGS[@]}"; do pkg_installed "$p" || MISSING+=("$p"); done
if [ ${#MISSING[@]} -eq 0 ]; then
  log "packages already installed: ${PKGS[*]}"
else
  if [ "${CI_APT_UPDATED:-0}" != 1 ]; then
    log "apt-get update"
    apt-get update -qq -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3
  fi
  log "installing ${MISSING[*]}"
  # --no-install-recommends: skips desktop bits (upower, notification daemon,
  # chromium-sandbox, ...) that headless CI does not need.
  apt-get install "${APT_OPTS[@]}" --no-install-recommends "${MISSING[@]}"
fi

[ -x "$CHROMIUM" ] || die "$CHROMIUM not found"
log "$("$CHROMIUM" --version 2>/dev/null || echo 'chromium --version failed')"

# Fonts: make sure fontconfig resolves a Simplified Chinese face.
zh_font=$(fc-match -f '%{family}\n' 'sans-serif:lang=zh-cn' 2>/dev/null | head -n1 || true)
fc-list :lang=zh-cn family 2>/dev/null | grep -q . || die "no font covering zh-cn found by fontconfig"
log "zh-cn sans-serif font: ${zh_font}"

# Smoke test: headless chromium must be able to load a page and dump the DOM.
PROFILE=$(mktemp -d /tmp/chromium-ci-profile.XXXXXX)
trap 'rm -rf "$PROFILE"' EXIT
CHROME_FLAGS=(--headless --no-sandbox --disable-gpu --disable-dev-shm-usage
  --no-first-run --no-default-browser-check --user-data-dir="$PROFILE")

dom=$(HOME="$PROFILE" timeout 90 "$CHROMIUM" "${CHROME_FLAGS[@]}" --dump-dom about:blank 2>"$PROFILE/stderr.log") || {
  cat "$PROFILE/stderr.log" >&2 || true
  die "chromium --headless --dump-dom about:blank failed"
}
case "$dom" in
  *"<body>"*) log "headless dump-dom OK: $(echo "$dom" | tr -d '\n')" ;;
  *) cat "$PROFILE/stderr.log" >&2 || true; die "unexpected --dump-dom output: $dom" ;;
esac

# Chinese text round-trip through the renderer (data: URL, UTF-8).
zh_dom=$(HOME="$PROFILE" timeout 90 "$CHROMIUM" "${CHROME_FLAGS[@]}" --dump-dom \
  'data:text/html;charset=utf-8,%3Cp%20lang%3D%22zh-CN%22%3E%E4%BD%A0%E5%A5%BD%EF%BC%8C%E4%B8%96%E7%95%8C%3C%2Fp%3E' \
  2>>"$PROFILE/stderr.log") || die "chromium failed to load a Chinese test page"
case "$zh_dom" in
  *"你好，世界"*) log "headless zh-CN page OK" ;;
  *) die "Chinese test page did not round-trip: $zh_dom" ;;
esac

log "chromium ready: CHROMIUM_PATH=$CHROMIUM"
