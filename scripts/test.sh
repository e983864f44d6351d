#!/usr/bin/env bash
# Builds txdir with the test suites (RelWithDebInfo, failpoints compiled in)
# into build/ and runs every test with ctest. Exits with ctest's status.
#   bash scripts/test.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/deps.sh

echo "== building txdir with tests (RelWithDebInfo, TXDIR_TESTING=ON) into build/"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTXDIR_TESTING=ON
cmake --build build -j "${JOBS:-2}"

echo "== running the tests"
set +e
ctest --test-dir build -j "${JOBS:-2}" --output-on-failure --timeout 900
status=$?
set -e
exit "$status"
