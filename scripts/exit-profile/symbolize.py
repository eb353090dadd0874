#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""exitprof symbolizer (used by scripts/exit-profile.sh).

  symbolize.py PROF SERIAL_LOG SYSTEM_MAP PROBE_BINARY [--top N] [--label TEXT]

PROF: the plugin's output (windows 1, 2, 3 of scripts/exit-profile/probe.cpp).
SERIAL_LOG: the console log, with the probe's "# ksym ADDR TYPE NAME [MODULE]" lines
(module symbols) and "# windows: rounds=R many=M". SYSTEM_MAP: the core kernel's
symbols (the machine booted with nokaslr). PROBE_BINARY: the static probe (nm).

Prints instructions per in-kernel CPUID exit ((w1 - w2) / (R * (M - 1))) and per PIO
round trip through user space (w3 / R), by symbol, plus by area (kernel, each module,
user space, L2 guest).
"""
import bisect
import re
import subprocess
import sys
from collections import defaultdict


def load_syms(serial, sysmap, probe):
    syms = []  # (addr, name)
    with open(sysmap) as f:
        for line in f:
            p = line.split()
            if len(p) >= 3 and p[1] in "tTwW":
                syms.append((int(p[0], 16), p[2]))
    rounds = many = pio_rounds = None
    with open(serial, errors="replace") as f:
        for line in f:
            m = re.search(r"# ksym ([0-9a-f]+) (\S) (\S+)\s+\[(\S+)\]", line)
            if m and m.group(2) in "tTwW":
                syms.append((int(m.group(1), 16), "%s [%s]" % (m.group(3), m.group(4))))
            m = re.search(r"# windows: rounds=(\d+) many=(\d+) pio_rounds=(\d+)", line)
            if m:
                rounds, many, pio_rounds = int(m.group(1)), int(m.group(2)), int(m.group(3))
    out = subprocess.run(["nm", "-C", "--defined-only", probe], capture_output=True, text=True).stdout
    for line in out.splitlines():
        p = line.split(None, 2)
        if len(p) == 3 and p[1] in "tTwW":
            syms.append((int(p[0], 16), "%s [user]" % p[2]))
    syms.sort()
    return syms, rounds, many, pio_rounds


def load_prof(path):
    win = {}
    other = {}
    owin = {}
    cur = None
    with open(path) as f:
        for line in f:
            if line.startswith("other_vcpus"):
                other[wid] = int(line.split()[1])
                continue
            if line.startswith("window"):
                cur = defaultdict(int)
                wid = int(line.split()[1])
                win[wid] = cur
                ocur = owin[wid] = defaultdict(int)
            elif line.startswith("end"):
                cur = None
            elif cur is not None and line.startswith("o "):
                _, a, c = line.split()
                ocur[int(a, 16)] += int(c)
            elif cur is not None:
                a, c = line.split()
                cur[int(a, 16)] += int(c)
    return win, other, owin


def main():
    args = sys.argv[1:]
    top = 30
    label = ""
    if "--top" in args:
        i = args.index("--top")
        top = int(args[i + 1])
        del args[i : i + 2]
    if "--label" in args:
        i = args.index("--label")
        label = args[i + 1]
        del args[i : i + 2]
    prof, serial, sysmap, probe = args
    syms, rounds, many, pio_rounds = load_syms(serial, sysmap, probe)
    if rounds is None:
        sys.exit("symbolize: no '# windows:' line in %s" % serial)
    addrs = [a for a, _ in syms]
    win, other, owin = load_prof(prof)
    for w in (1, 2, 3):
        if w not in win:
            sys.exit("symbolize: window %d missing in %s" % (w, prof))

    def name(a):
        if 0x10000 <= a < 0x20000:
            return "(L2 guest code)"
        i = bisect.bisect_right(addrs, a) - 1
        if a >= 0xFFFF800000000000:
            if i < 0 or addrs[i] < 0xFFFF800000000000 or a - addrs[i] > 0x100000:
                return "(kernel ?%x)" % a
            return syms[i][1]
        if i >= 0 and a - addrs[i] < 0x10000 and syms[i][1].endswith("[user]"):
            return syms[i][1]
        return "(user other)"

    def area(n):
        if n.startswith("(L2"):
            return "L2 guest"
        m = re.search(r"\[(\S+)\]$", n)
        if m:
            return "user space" if m.group(1) == "user" else "module " + m.group(1)
        if n.startswith("(user"):
            return "user space"
        return "kernel core"

    def bysym(w):
        d = defaultdict(int)
        for a, c in w.items():
            d[name(a)] += c
        return d

    # QEMU's thread=single TCG bakes the index of the vCPU that *translated* a block
    # into its plugin callbacks, so "other vCPU" also holds the probe's own work in
    # blocks first translated on the other vCPU: the main tables count both (in a quiet
    # machine the other vCPU only takes its timer ticks); the split is a diagnostic.
    def merged(w):
        d = defaultdict(int)
        for src in (win[w], owin[w]):
            for a, c in src.items():
                d[a] += c
        return d

    by = {w: bysym(merged(w)) for w in (1, 2, 3)}
    oby = {w: bysym(owin[w]) for w in (1, 2, 3)}
    cpuid_div = rounds * (many - 1)

    def diff(a, b):
        return {n: (a.get(n, 0) - b.get(n, 0)) / cpuid_div for n in set(a) | set(b)}

    cpuid = diff(by[1], by[2])
    pio = {n: c / pio_rounds for n, c in by[3].items()}
    ocpuid = diff(oby[1], oby[2])
    opio = {n: c / pio_rounds for n, c in oby[3].items()}

    def table(title, d):
        tot = sum(d.values())
        print("%s%s: %.0f instructions" % (label, title, tot))
        areas = defaultdict(float)
        for n, v in d.items():
            areas[area(n)] += v
        print("  by area: " + ", ".join("%s %.0f" % (k, v) for k, v in sorted(areas.items(), key=lambda x: -x[1])))
        print("  %8s %6s  %s" % ("insns", "%", "symbol"))
        rows = sorted(d.items(), key=lambda x: -abs(x[1]))
        shown = 0
        for n, v in rows[:top]:
            print("  %8.1f %5.1f%%  %s" % (v, 100 * v / tot if tot else 0, n))
            shown += v
        print("  %8.1f %5.1f%%  (%d other symbols)" % (tot - shown, 100 * (tot - shown) / tot if tot else 0, max(0, len(rows) - top)))
        print()

    for w in (1, 2, 3):
        print("window %d: %d instructions credited to the probe's vCPU, %d to other vCPUs"
              % (w, sum(win[w].values()), other.get(w, 0)))
    print()
    table("per CPUID exit handled in the kernel", cpuid)
    table("per PIO exit round trip through user space", pio)
    top = min(top, 15)
    label = "of which credited to OTHER vCPUs (translated there, or run there) " + label
    table("per CPUID exit handled in the kernel", ocpuid)
    table("per PIO exit round trip through user space", opio)


if __name__ == "__main__":
    main()
