#!/usr/bin/env bash
# `npm test`: the browser tests' production build runs beside the type check and lint (they use one
# core, the build both), then every test. Any of them failing fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1

# Its own process group, so a failed check stops the whole build, `next build` included.
set -m
npx tsx scripts/build.ts &
build=$!
set +m
trap 'kill -- -"$build" 2>/dev/null || true' EXIT
npm run typecheck
npm run lint
wait "$build"
trap - EXIT
exec npx vitest run "$@"
