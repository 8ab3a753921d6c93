"""exit_report_time.py LIB HOST — the cost of the exit report with 100
live threads: the time from the host's exit() to the process being reaped,
with statistics off and on (median of 15 runs each, interleaved)."""
import os
import statistics
import subprocess
import sys
import time

lib, host = sys.argv[1], sys.argv[2]


def exit_time_ms(stats):
    env = dict(os.environ, LD_PRELOAD=lib, SWALLOC_STATS=stats)
    process = subprocess.Popen([host, "100"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    exited_at = int(process.stdout.readline())
    process.wait()
    return (time.clock_gettime_ns(time.CLOCK_MONOTONIC) - exited_at) / 1e6


samples = {"off": [], "summary": []}
for _ in range(15):
    for stats in samples:
        samples[stats].append(exit_time_ms(stats))
off, summary = (statistics.median(samples[s]) for s in ("off", "summary"))
print(f"exit() to reaped, 100 live threads: statistics off {off:.3f} ms, summary {summary:.3f} ms; "
      f"the report costs {summary - off:.3f} ms")
