#!/bin/sh
echo "script got $# args: $*"
echo "to stderr" >&2
pwd
exit ${EXIT_WITH:-0}
