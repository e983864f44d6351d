#!/usr/bin/env bash
# Installs the Debian 12 packages that txdir's build and tests need, if any is
# missing. Idempotent: when everything is installed it does not touch apt.
# Needs root (or sudo) only when something has to be installed.
set -euo pipefail

PACKAGES=(
  g++ cmake ninja-build pkg-config git
  libgit2-dev libspdlog-dev libfmt-dev libssl-dev
  libgtest-dev libgmock-dev libcli11-dev libexpected-dev nlohmann-json3-dev
  librapidcheck-dev libbenchmark-dev libsqlite3-dev libcpp-httplib-dev zlib1g-dev
  libssh2-1-dev libmbedtls-dev libhttp-parser-dev libpcre2-dev libkrb5-dev
  sqlite3 strace clang libclang-rt-14-dev e2fsprogs clang-tidy cppcheck
  chromium fonts-liberation fonts-dejavu-core
)

missing=()
for p in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "installed" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "deps: all ${#PACKAGES[@]} packages installed"
  exit 0
fi

echo "deps: installing ${missing[*]}"
SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "deps: not root and no sudo: install ${missing[*]}" >&2; exit 1; }
  SUDO=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update
"${SUDO[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
