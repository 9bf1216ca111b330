#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
#
# The report of userspace/bench/run.sh: reads OUT/raw (Google Benchmark JSON
# per allocator and round, memory readings, callgrind counts), writes
# OUT/results.json, OUT/table.md (also printed) and OUT/throughput.png,
# OUT/scaling.png, OUT/instructions.png. Fails on missing or inconsistent
# input (an allocator's file absent, a process that ran another malloc than
# the one it was given).
#   usage: report.py OUT
import glob
import json
import os
import statistics
import sys

ALLOCS = ["kslub", "kslub-sheaves", "glibc", "jemalloc", "tcmalloc", "mimalloc"]
OTHERS = ALLOCS[2:]
# The malloc each process must have found mapped: kslub's processes run glibc's
# for everything that is not the benchmarked allocations.
EXPECT_MALLOC = {"kslub": "glibc", "kslub-sheaves": "glibc", "glibc": "glibc",
                 "jemalloc": "jemalloc", "tcmalloc": "tcmalloc", "mimalloc": "mimalloc"}
PATTERNS = ["pair", "batch1000", "kmalloc", "bulk64", "remote1000"]


def fail(msg):
    print(f"bench report: error: {msg}", file=sys.stderr)
    sys.exit(1)


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        fail(f"{path}: {e}")


def read_times(out):
    """alloc -> (pattern, threads) -> median Mitems/s over rounds; and the rounds."""
    times, rounds = {}, None
    for a in ALLOCS:
        files = sorted(glob.glob(os.path.join(out, "raw", f"times-{a}-[0-9]*.json")))
        if not files:
            fail(f"no timing results for {a} in {out}/raw")
        if rounds is not None and len(files) != rounds:
            fail(f"{a}: {len(files)} rounds, others {rounds}")
        rounds = len(files)
        runs = {}
        for path in files:
            d = load_json(path)
            got = d.get("context", {}).get("malloc")
            if got != EXPECT_MALLOC[a]:
                fail(f"{path}: the process ran {got}'s malloc, not {EXPECT_MALLOC[a]}'s")
            for b in d.get("benchmarks", []):
                if b.get("run_type") == "aggregate" or "items_per_second" not in b:
                    continue
                key = (b["name"].split("/")[0], int(b.get("threads", 1)))
                runs.setdefault(key, []).append(b["items_per_second"] / 1e6)
        times[a] = {k: statistics.median(v) for k, v in runs.items()}
        for need in [("pair", 1), ("batch1000", 1), ("kmalloc", 1), ("bulk64", 1)]:
            if need not in times[a]:
                fail(f"{a}: no result for {need[0]} (threads {need[1]})")
    return times, rounds


def read_memory(out):
    mem = {}
    for a in ALLOCS:
        d = load_json(os.path.join(out, "raw", f"memory-{a}.json"))
        if d.get("malloc") != EXPECT_MALLOC[a]:
            fail(f"memory-{a}.json: the process ran {d.get('malloc')}'s malloc")
        delta = d["rss_after"] - d["rss_before"]
        mem[a] = {"objects": d["objects"], "rss_delta": delta,
                  "bytes_per_object": delta / d["objects"],
                  "overhead_per_object": delta / d["objects"] - d["object_bytes"]}
    return mem


def read_instructions(out):
    ins = {}
    path = os.path.join(out, "raw", "instructions.tsv")
    try:
        with open(path) as f:
            for line in f:
                a, p, n = line.split("\t")
                ins.setdefault(a, {})[p] = int(n)
    except (OSError, ValueError) as e:
        fail(f"{path}: {e}")
    for a in ALLOCS:
        if "pair" not in ins.get(a, {}):
            fail(f"{path}: no count for {a}")
    return ins


def fmt(x, digits=1):
    return "-" if x is None else f"{x:.{digits}f}"


def main():
    if len(sys.argv) != 2:
        fail("usage: report.py OUT")
    out = sys.argv[1]
    times, rounds = read_times(out)
    mem = read_memory(out)
    ins = read_instructions(out)
    cpus = max(t for a in ALLOCS for (p, t) in times[a] if p == "pair")

    rows = [("pair", 1, "pair, 1 thread")]
    if cpus > 1:
        rows.append(("pair", cpus, f"pair, {cpus} threads (total)"))
    rows += [("batch1000", 1, "batch of 1000"), ("kmalloc", 1, "kmalloc, changing sizes"),
             ("bulk64", 1, "bulk 64")]
    if cpus > 1:
        rows.append(("remote1000", 2, "freed by another thread, 2 threads"))
        if cpus > 2:
            rows.append(("remote1000", cpus, f"freed by another thread, {cpus} threads"))

    lines = []
    w = lines.append
    w(f"Throughput, million items per second (an item: one object allocated and freed; "
      f"median of {rounds} round(s); {cpus} CPUs)\n")
    w("| pattern | " + " | ".join(ALLOCS) + " |")
    w("|---" * (len(ALLOCS) + 1) + "|")
    for p, t, label in rows:
        w(f"| {label} | " + " | ".join(fmt(times[a].get((p, t))) for a in ALLOCS) + " |")
    w("")
    w("kslub's time per item over each allocator's (below 1: kslub is faster)\n")
    w("| pattern | " + " | ".join(f"kslub / {o}" for o in OTHERS) + " | kslub-sheaves / kslub |")
    w("|---" * (len(OTHERS) + 2) + "|")
    ratios = {}
    for p, t, label in rows:
        k = times["kslub"].get((p, t))
        cells = []
        for o in OTHERS:
            v = times[o].get((p, t))
            r = v / k if k and v else None
            ratios[(p, t, o)] = r
            cells.append(fmt(r, 2))
        s = times["kslub-sheaves"].get((p, t))
        cells.append(fmt(k / s if k and s else None, 2))
        w(f"| {label} | " + " | ".join(cells) + " |")
    w("")
    w("Scaling of `pair`: T threads' throughput over T times one thread's\n")
    ts = list(range(1, cpus + 1))
    w("| allocator | " + " | ".join(f"{t} thr Mops/s" for t in ts) + f" | efficiency at {cpus} |")
    w("|---" * (len(ts) + 2) + "|")
    scaling = {}
    for a in ALLOCS:
        one = times[a][("pair", 1)]
        eff = times[a].get(("pair", cpus), 0) / (cpus * one) if one else None
        scaling[a] = eff
        w(f"| {a} | " + " | ".join(fmt(times[a].get(("pair", t))) for t in ts) + f" | {fmt(eff, 2)} |")
    w("")
    counted = ALLOCS + [a for a in ins if a not in ALLOCS]
    w("Instructions per item (callgrind; valgrind has no rseq: kslub is counted in its deterministic mode, one thread on CPU 0, the fast paths without a host CPU read)\n")
    w("| allocator | " + " | ".join(PATTERNS[:4]) + " |")
    w("|---" * 5 + "|")
    for a in counted:
        w(f"| {a} | " + " | ".join(str(ins[a].get(p, "-")) for p in PATTERNS[:4]) + " |")
    w("")
    n = mem["kslub"]["objects"]
    w(f"Memory for {n} live 64-byte objects (RSS after minus before; kslub's includes its pool's "
      f"page descriptors)\n")
    w("| allocator | RSS growth MiB | bytes per object | overhead per object |")
    w("|---|---|---|---|")
    for a in ALLOCS:
        m = mem[a]
        w(f"| {a} | {m['rss_delta'] / 2**20:.1f} | {m['bytes_per_object']:.1f} | "
          f"{m['overhead_per_object']:.1f} |")
    w("")
    targets = []
    pair_k = ins["kslub"]["pair"]
    targets.append(("fast path <= 80 instructions per pair (default build)", f"{pair_k}", pair_k <= 80))
    if "kslub-nostats" in ins:
        ns = ins["kslub-nostats"]["pair"]
        targets.append(("fast path <= 60 instructions per pair (CONFIG_KSLUB_STATS=n)", f"{ns}", ns <= 60))
    for o in ("tcmalloc", "glibc"):
        r = ratios[("pair", 1, o)]
        targets.append((f"single-thread pair time <= {o}'s", f"{r:.2f}x", r <= 1.0))
    eff = scaling["kslub"]
    targets.append((f"{cpus} threads >= 0.8 x {cpus} x one thread (pair)", f"{eff:.2f}", eff >= 0.8))
    w("Targets (printed, not asserted)\n")
    w("| target | measured | met |")
    w("|---|---|---|")
    for name, val, ok in targets:
        w(f"| {name} | {val} | {'yes' if ok else 'no'} |")

    table = "\n".join(lines) + "\n"
    with open(os.path.join(out, "table.md"), "w") as f:
        f.write(table)
    results = {
        "cpus": cpus, "rounds": rounds,
        "mitems_per_second": {a: {f"{p}/threads:{t}": v for (p, t), v in times[a].items()} for a in ALLOCS},
        "instructions_per_item": ins, "memory": mem,
        "targets": [{"target": n, "measured": v, "met": ok} for n, v, ok in targets],
    }
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    plots(out, times, ins, rows, cpus, counted)
    print(table, end="")
    print(f"bench: wrote {out}/results.json, table.md, throughput.png, scaling.png, instructions.png")


def plots(out, times, ins, rows, cpus, counted):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def bars(ax, groups, series, value, ylabel, title, log):
        width = 0.8 / len(series)
        for i, s in enumerate(series):
            xs = [g + (i - (len(series) - 1) / 2) * width for g in range(len(groups))]
            ax.bar(xs, [value(s, g) or 0 for g in groups], width, label=s)
        ax.set_xticks(range(len(groups)))
        ax.set_xticklabels([g if isinstance(g, str) else g[2] for g in groups], rotation=20, ha="right")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        if log:
            ax.set_yscale("log")
        ax.legend(fontsize=8)

    fig, ax = plt.subplots(figsize=(10, 5))
    bars(ax, rows, ALLOCS, lambda a, r: times[a].get((r[0], r[1])), "million items / s (log)",
         "kslub-gbench: throughput by pattern", True)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "throughput.png"), dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 5))
    ts = list(range(1, cpus + 1))
    for a in ALLOCS:
        ax.plot(ts, [times[a].get(("pair", t)) for t in ts], marker="o", label=a)
    one = times["kslub"][("pair", 1)]
    ax.plot(ts, [0.8 * t * one for t in ts], linestyle="--", color="grey", label="0.8 x T x kslub(1)")
    ax.set_xlabel("threads")
    ax.set_ylabel("million pairs / s (total)")
    ax.set_title("pair: scaling with threads")
    ax.set_xticks(ts)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "scaling.png"), dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(10, 5))
    bars(ax, PATTERNS[:4], counted, lambda a, p: ins[a].get(p), "instructions per item",
         "callgrind: instructions per item", False)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "instructions.png"), dpi=100)
    plt.close(fig)


if __name__ == "__main__":
    main()
