#!/bin/sh
# Runs the integration driver with Debian's python3; without it the test is skipped (CTest code 77).
if [ ! -x /usr/bin/python3 ]; then
    echo "SKIP: /usr/bin/python3 is missing; the framework integration tests need it"
    exit 77
fi
exec /usr/bin/python3 "$@"
