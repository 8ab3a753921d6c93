#!/usr/bin/env bash
# callsites_vs_heaptrack.sh LIB OUT — call-site profiling of the same
# workloads by swalloc (SWALLOC_SAMPLE=1: every allocation, profile written)
# and by heaptrack (trace and interpretation), side by side; median wall
# time of 5 runs each, and the top site by allocated bytes each tool names.
set -euo pipefail
lib=$1
out=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
command -v heaptrack >/dev/null || { echo "(heaptrack not installed: apt-get install heaptrack)"; exit 0; }
# The interpreter itself: python3 on PATH may be a wrapper script (pyenv's).
python=$(python3 -c 'import sys; print(sys.executable)')
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
ms() { local start end; start=$(date +%s%N); "$@" >/dev/null 2>&1; end=$(date +%s%N); echo $(( (end - start) / 1000000 )); }
compare() {
    local name=$1
    shift
    local s=() h=()
    for run in 1 2 3 4 5; do
        s+=("$(ms env LD_PRELOAD="$lib" SWALLOC_SAMPLE=1 SWALLOC_OUT="$out/swalloc.json" "$@")")
        h+=("$(ms heaptrack -o "$out/heaptrack.$run" "$@")")
    done
    local sm hm
    sm=$(printf '%s\n' "${s[@]}" | median)
    hm=$(printf '%s\n' "${h[@]}" | median)
    # The top site by calls, as each tool names it (heaptrack merges sites by
    # their innermost function: so does this).
    local stop htop
    stop=$(python3 -c 'import json, sys, collections
calls = collections.Counter()
for s in json.load(open(sys.argv[1]))["sites"]:
    calls[s["frames"][0]["function"]] += s["calls"]
print(calls.most_common(1)[0][0])' "$out/swalloc.json")
    htop=$(heaptrack_print -f "$out/heaptrack.1.zst" 2>/dev/null | awk '/^MOST CALLS/ { getline; getline; print; exit }' || true)
    printf '%-24s swalloc %6s ms   heaptrack %6s ms   %.1fx faster   top site by calls: swalloc %s, heaptrack %s\n' \
        "$name" "$sm" "$hm" "$(awk -v a="$hm" -v b="$sm" 'BEGIN { print a / b }')" "$stop" "$htop"
}
# A fixed hash seed: the same dict probes in every run.
export PYTHONMALLOC=malloc PYTHONHASHSEED=0
compare "callsites big (C)" "$out/../callsites_bench" big
compare "python3 dict_strings.py" "$python" "$root/interpose/bench/dict_strings.py"
echo "(heaptrack's own view of the top sites: heaptrack_print $out/heaptrack.1.zst)"
