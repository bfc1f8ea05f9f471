#!/usr/bin/env bash
# Runs the app locally end to end on synthetic data: installs the local stack's npm packages if needed, builds,
# starts Azurite + the Cosmos stand-in, generates synthetic File 1s / File 2s, starts the function app on
# http://localhost:7071 and drops the files into the inboxes. Ctrl-C stops everything.
#   ./run-local.sh [--participants N]
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -d tools/devstack/node_modules ]; then
  npm ci --prefix tools/devstack --no-audit --no-fund --loglevel=error
fi
for p in src/Linkage.Cli tools/Linkage.LocalHost tools/Linkage.DevStack; do dotnet build -c Release --nologo -v q "$p"; done
exec dotnet tools/Linkage.DevStack/bin/Release/net10.0/Linkage.DevStack.dll run "$@"
