#!/bin/sh
# Installs the pinned openai SDK (package-lock.json) into WORK (in the build dir, never the checkout)
# and runs sdk_test.mjs there. No node/npm, or no registry to install from: skipped (CTest code 77).
# usage: run_openai_sdk.sh SRC_DIR WORK_DIR --grm GRM --fixture-model WRITER
src=$1 work=$2
shift 2
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "SKIP: node/npm not found; the OpenAI SDK test needs them"
    exit 77
fi
mkdir -p "$work" && cp "$src/package.json" "$src/package-lock.json" "$src/sdk_test.mjs" "$work/" || exit 1
want=$(node -p "require('$work/package.json').dependencies.openai")
have=$(node -p "try { require('$work/node_modules/openai/package.json').version } catch { '' }")
if [ "$want" != "$have" ]; then
    if ! (cd "$work" && timeout 180 npm ci --no-audit --no-fund --fetch-retries=1 --fetch-timeout=30000); then
        echo "SKIP: npm could not install openai@$want from the registry (offline?)"
        exit 77
    fi
fi
cd "$work" && exec node sdk_test.mjs "$@"
