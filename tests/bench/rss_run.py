#!/usr/bin/env python3
"""rss_run.py OUT CMD [ARGS...] - runs CMD, writes its memory and CPU figures to OUT.

CMD runs under /usr/bin/time (a small C program, so CMD's ru_maxrss is not
inflated by this Python process's memory, as it would be if Python forked
or vforked CMD itself). OUT gets one line "maxrss_kb rss_kb anon_kb cpu_ms":

  maxrss_kb  /usr/bin/time's %M: the kernel's peak RSS of CMD (getrusage).
             It counts the shared libc and program text pages CMD has mapped,
             and how many of those get mapped depends on the page cache
             (fault-around), so it moves by ~100-200 KB from run to run.
  rss_kb     the largest "Rss:" of /proc/PID/smaps_rollup seen while CMD ran,
             sampled every 10 ms (each sample exact: smaps walks the page
             tables; a peak between samples can be missed, but a fixed-memory
             program plateaus early).
  anon_kb    the largest "Anonymous:" seen likewise: the process's own
             private memory (.data, .bss, stack, heap) - the fixed part.
  cpu_ms     user + system CPU time of CMD.

CMD's stdin, stdout and stderr are passed through; the exit status is CMD's.
Standard library only (Linux).
"""

import os
import subprocess
import sys
import time

TIME = "/usr/bin/time"


def rollup(pid):
    """(Rss, Anonymous) of /proc/PID/smaps_rollup in KB; (0, 0) when gone."""
    rss = anon = 0
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Anonymous:"):
                    anon = int(line.split()[1])
    except (OSError, ValueError):
        pass
    return rss, anon


def child_of(pid):
    """The first child of pid, or 0."""
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            kids = f.read().split()
        return int(kids[0]) if kids else 0
    except (OSError, ValueError):
        return 0


def main():
    if len(sys.argv) < 3:
        sys.stderr.write("usage: rss_run.py OUT CMD [ARGS...]\n")
        return 64
    out, cmd = sys.argv[1], sys.argv[2:]
    timing = out + ".time"
    proc = subprocess.Popen([TIME, "-f", "%M %U %S", "-o", timing] + cmd)
    rss = anon = 0
    target = 0
    while proc.poll() is None:
        target = target or child_of(proc.pid)
        if target:
            now_rss, now_anon = rollup(target)
            rss, anon = max(rss, now_rss), max(anon, now_anon)
        time.sleep(0.01)
    maxrss, cpu_ms = 0, 0
    try:
        with open(timing) as f:
            # the last line ("Command exited with ..." may come before it)
            fields = [line for line in f.read().splitlines() if line.strip()][-1].split()
        maxrss = int(fields[0])
        cpu_ms = int(round((float(fields[1]) + float(fields[2])) * 1000))
    except (OSError, ValueError, IndexError):
        pass
    with open(out, "w") as f:
        f.write("%d %d %d %d\n" % (maxrss, rss, anon, cpu_ms))
    return proc.returncode if proc.returncode >= 0 else 128 - proc.returncode


if __name__ == "__main__":
    sys.exit(main())
