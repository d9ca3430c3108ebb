#!/bin/sh
# Instructions a call of each case of `runtime/benches/instructions.rs`, counted by callgrind: the loop's
# thread only, the difference between 4,000 and 2,000 calls over 2,000 (so set-up cancels out).
# Needs valgrind. From the workspace root: sh runtime/benches/instructions.sh [case ...]
set -eu
bin=$(cargo bench -p mvi --features reqwest --bench instructions --no-run 2>&1 |
    sed -n 's/.*Executable benches\/instructions.rs (\(.*\))/\1/p')
out=$(mktemp -d)
count() {
    valgrind --tool=callgrind --separate-threads=yes --collect-atstart=no \
        --toggle-collect='instructions::measured' --callgrind-out-file="$out/$1.$2" \
        "$bin" "$1" "$2" >/dev/null 2>&1
    awk '/^(summary|totals):/ { print $2; exit }' "$out/$1.$2-01"
}
cases=${*:-handler-bare handler-traced client-bare client-mvi client-reqwest-tracing}
for case in $cases; do
    small=$(count "$case" 2000)
    large=$(count "$case" 4000)
    echo "$case: $(( (large - small) / 2000 )) instructions a call"
done
rm -r "$out"
