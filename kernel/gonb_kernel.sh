#!/usr/bin/env bash
# The GoNB kernel's entry point in the kernel spec (kernel/install.sh puts it
# before bin/gonb's own argv): runs "$@" with one line of its stderr removed.
#
# Why: GoNB v0.11.5's setUpKlog (main.go:186-192) receives its --extra_log
# file as an io.Writer; without --extra_log that is a nil *os.File in a
# non-nil interface, so every kernel start logs GoNB's own test line
# "Error message" at ERROR severity (main.go:191), which reads like a failure.
# Only that exact line (file main.go, line 191, text "Error message") is
# dropped; every other line, errors included, passes through unchanged.
exec "$@" 2> >(grep --line-buffered -v -E '^E[0-9]{4} [0-9:.]+ +[0-9]+ main\.go:191\] .*Error message$' >&2)
