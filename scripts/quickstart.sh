#!/usr/bin/env bash
# Quick start: install what is missing, build txdir in Release, run the demo.
#   bash scripts/quickstart.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/deps.sh

echo
echo "== building txdir (Release) into build-release/"
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DTXDIR_TESTING=OFF >/dev/null
cmake --build build-release -j "${JOBS:-2}"

echo
exec bash scripts/demo.sh build-release
