#!/usr/bin/env bash
# Install the real Codex CLI for the interop tests, outside the package's own
# dependencies, and print the path of its native binary as the last line. The
# version is the pin below, or $CODEX_VERSION (`make interop CODEX_VERSION=x.y.z`);
# each version has its own folder in the cache.
#
# The npm package @openai/codex is a small launcher (bin/codex.js); the binary
# itself comes from a per-platform optional dependency aliased to
# @openai/codex@<version>-<platform> (e.g. 0.169.0-linux-x64), so it installs
# from the npm registry alone. We print the native binary rather than the
# launcher: on Node < 22 the launcher stays alive as a parent process, which
# would make killing timed-out runs unreliable.
set -euo pipefail

# The pin: the newest release the interop suite is proven against. Bumping it is this one line.
PINNED=0.171.0
CODEX_VERSION="${CODEX_VERSION:-$PINNED}"
[[ "$CODEX_VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?$ ]] || { echo "install-codex: '$CODEX_VERSION' is not a version" >&2; exit 2; }
CACHE_ROOT="${ROLLOUT_CODEX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rollout}"
PREFIX="$CACHE_ROOT/codex-$CODEX_VERSION"

fail() {
  echo "install-codex: $*" >&2
  exit 1
}

target_triple() {
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) echo "x86_64-unknown-linux-musl linux-x64" ;;
    Linux-aarch64 | Linux-arm64) echo "aarch64-unknown-linux-musl linux-arm64" ;;
    Darwin-x86_64) echo "x86_64-apple-darwin darwin-x64" ;;
    Darwin-arm64) echo "aarch64-apple-darwin darwin-arm64" ;;
    *) fail "no Codex binary is published for $(uname -s) $(uname -m)" ;;
  esac
}

read -r TRIPLE PLATFORM < <(target_triple)
# Where the native binary is, by release: in the per-platform package under bin/ (0.15x on) or
# codex/ (early 2026); in the main package under vendor/ (late 2025) or beside the launcher (mid-2025).
bin_candidates() {
  echo "$PREFIX/node_modules/@openai/codex-$PLATFORM/vendor/$TRIPLE/bin/codex"
  echo "$PREFIX/node_modules/@openai/codex-$PLATFORM/vendor/$TRIPLE/codex/codex"
  echo "$PREFIX/node_modules/@openai/codex/vendor/$TRIPLE/codex/codex"
  echo "$PREFIX/node_modules/@openai/codex/bin/codex-$TRIPLE"
}
find_bin() {
  local c
  for c in $(bin_candidates); do [ -x "$c" ] && { echo "$c"; return; }; done
  bin_candidates | head -n 1
}
BIN=$(find_bin)

# Idempotent: the version check also catches a half-finished earlier install.
installed_version() {
  [ -x "$BIN" ] && "$BIN" --version 2>/dev/null | awk '{print $NF}'
}

if [ "$(installed_version || true)" != "$CODEX_VERSION" ]; then
  command -v npm >/dev/null || fail "npm is not on PATH"
  mkdir -p "$PREFIX" || fail "cannot create $PREFIX"
  echo "install-codex: installing @openai/codex@$CODEX_VERSION into $PREFIX" >&2
  # --include=optional: the binary is an optional dependency, and an inherited
  # npm_config_omit=optional would silently leave only the launcher.
  npm install --prefix "$PREFIX" --no-save --no-package-lock --no-audit --no-fund \
    --include=optional --loglevel=error "@openai/codex@$CODEX_VERSION" >&2 \
    || fail "npm install @openai/codex@$CODEX_VERSION failed (is the npm registry reachable?)"
  BIN=$(find_bin)
  [ -x "$BIN" ] || fail "npm installed the launcher but not the platform binary $BIN"
  [ "$(installed_version || true)" = "$CODEX_VERSION" ] \
    || fail "$BIN does not report version $CODEX_VERSION"
fi

echo "$BIN"
