#!/usr/bin/env python3
"""plot.py -- the summary of a Benchmarks/compare.sh run: Markdown tables, a CSV and an SVG plot.

    Benchmarks/plot.py [RESULTS_DIR]      (default: the newest directory in Benchmarks/results/)

compare.sh calls this at the end; run it again by hand to re-summarize a run. Python 3 standard
library only (CI machines have no matplotlib).

Reads   RESULTS_DIR/raw/<path>.<benchmark>.<library>.rep<N>.txt   swiftmpi-bench / osu_style.c output
        RESULTS_DIR/launch/{true,hello}.rep<N>.json                hyperfine --export-json
Writes  RESULTS_DIR/summary.md   one table per (path, benchmark), plus launch time; also printed
        RESULTS_DIR/summary.csv  path, benchmark, size, library, n, median, min, max
        RESULTS_DIR/plot.svg     every size sweep vs message size: one column per path, one line
                                 per library, log2 x axis, log10 y axis, min..max whiskers

Decisions:
- A cell is the median over repetitions, then "±x%" where x = 100 * (max - min) / (2 * median): the
  min..max range as a symmetric spread around the median. With 5 repetitions the median ignores two
  outliers on either side; the spread shows how much to trust the cell.
- "SwiftMPI / best peer" divides SwiftMPI's median by the best peer median in that row: the lowest
  for latency, the highest for bandwidth and message rate. So below 1 is better for latency, above 1
  is better for bandwidth; the table header says which. The last row is the geometric mean of the
  ratios over the sizes, one number per table.
- "fast placement" and "slow placement": the same ratio among the runs made in one vCPU placement
  only, with the number of runs behind each side. These VMs switch between a placement where a
  cache line passes between the vCPUs in ~0.03 us and one where it takes ~0.16-0.2 us, every few
  seconds to minutes; compare.sh probes before and after each run (runs.tsv) and a run counts for a
  placement when both probes agree (under 0.1 us: fast; from 0.1 us: slow). The overall medians of
  a cell can come from different placements for different libraries (3 slow repetitions of 5 for
  one, 2 for another); the per-placement ratios compare like with like. All three are printed.
- mbw-mr is summarized by its messages/s column (its MB/s is the same rate times the size).
- The size 0 rows are in the tables but not in the plot (a log axis has no 0).
"""
import csv
import glob
import html
import json
import math
import os
import re
import statistics
import sys
from collections import defaultdict

LIBRARIES = [  # key, display name, plot colour
    ("swiftmpi", "SwiftMPI", "#e8542f"),
    ("openmpi", "Open MPI", "#1f6fb4"),
    ("mpich", "MPICH", "#2e9a3c"),
]
NAME = {key: name for key, name, _ in LIBRARIES}
BENCHMARKS = {  # name: (title, unit, higher is better)
    "latency": ("Latency", "us", False),
    "bw": ("Bandwidth", "MB/s", True),
    "bibw": ("Bi-directional bandwidth", "MB/s", True),
    "mbw-mr": ("Message rate (1 pair, window 64)", "messages/s", True),
    "allreduce": ("Allreduce (in place, MPI_DOUBLE sum)", "us", False),
    "barrier": ("Barrier", "us", False),
    "bcast": ("Broadcast (bytes, root 0)", "us", False),
    "reduce": ("Reduce (in place, MPI_DOUBLE sum, root 0)", "us", False),
    "gather": ("Gather (bytes per rank, root 0)", "us", False),
    "scatter": ("Scatter (bytes per rank, root 0)", "us", False),
    "allgather": ("Allgather (bytes per rank)", "us", False),
    "alltoall": ("All-to-all (bytes per pair)", "us", False),
    "gatherv": ("Gatherv (bytes per rank, root 0)", "us", False),
    "scatterv": ("Scatterv (bytes per rank, root 0)", "us", False),
    "allgatherv": ("Allgatherv (bytes per rank)", "us", False),
    "alltoallv": ("All-to-allv (bytes per pair)", "us", False),
    "alltoallw": ("All-to-allw (bytes per pair, MPI_BYTE)", "us", False),
    "reduce-scatter": ("Reduce-scatter (MPI_DOUBLE sum, the vector split over the ranks)", "us", False),
    "reduce-scatter-block": ("Reduce-scatter-block (MPI_DOUBLE sum)", "us", False),
    **{name: (f"Non-blocking {name[1:]}: OSU's overall time (start, computation as long as the call alone, wait)", "us", False)
       for name in ["ibarrier", "ibcast", "iallreduce", "ireduce", "igather", "iscatter", "iallgather", "ialltoall", "igatherv",
                    "iscatterv", "iallgatherv", "ialltoallv", "ialltoallw", "ireduce-scatter", "ireduce-scatter-block"]},
    "halo": ("Halo exchange: a column of an N×N grid of doubles (size = N)", "us", False),
    "put-latency": ("One-sided put + flush (OSU osu_put_latency)", "us", False),
    "get-latency": ("One-sided get + flush (OSU osu_get_latency)", "us", False),
    "put-bw": ("One-sided put bandwidth (OSU osu_put_bw)", "MB/s", True),
    "get-bw": ("One-sided get bandwidth (OSU osu_get_bw)", "MB/s", True),
    "put-bibw": ("One-sided put bi-directional bandwidth (OSU osu_put_bibw)", "MB/s", True),
    "acc-latency": ("One-sided accumulate + flush (OSU osu_acc_latency)", "us", False),
    "fop-latency": ("Fetch-and-op + flush (OSU osu_fop_latency)", "us", False),
    "cas-latency": ("Compare-and-swap + flush (OSU osu_cas_latency)", "us", False),
    "io-write": ("MPI-IO write, aggregate of the ranks (size = bytes per rank; settings say the ranks and pattern)", "MB/s", True),
    "io-read": ("MPI-IO read, aggregate of the ranks (size = bytes per rank; settings say the ranks and pattern)", "MB/s", True),
}
SINGLE_VALUE = {"barrier", "ibarrier"}  # one row, no size column
PATHS = {"shm": "shared memory", "tcp": "TCP over loopback"}
PLACEMENT_THRESHOLD_US = 0.1  # placement_probe.c: ~0.03 us in the fast placement, ~0.16-0.2 in the slow one
RAW_NAME = re.compile(r"^(shm|tcp)\.([a-z-]+)\.(swiftmpi|openmpi|mpich)\.rep(\d+)\.txt$")


# ------------------------------------------------------------------------------------ reading

def read_rows(path, benchmark):
    """{size: value} from one output file; '#' lines are headers, barrier has a single value."""
    rows = {}
    with open(path, errors="replace") as f:
        for number, line in enumerate(f, 1):
            fields = line.split()
            if not fields or fields[0].startswith("#"):
                continue
            try:
                if benchmark in SINGLE_VALUE:
                    rows[0] = float(fields[0])
                else:
                    rows[int(fields[0])] = float(fields[2] if benchmark == "mbw-mr" else fields[1])
            except (ValueError, IndexError):
                sys.exit(f"plot.py: {path}:{number}: not a result row: {line.rstrip()!r}")
    return rows


def load_benchmarks(results):
    """{(path, benchmark): {size: {library: [value per repetition]}}} and the repetitions seen."""
    data = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    repetitions = set()
    by_repetition = defaultdict(lambda: defaultdict(lambda: defaultdict(dict)))
    for file in sorted(glob.glob(os.path.join(results, "raw", "*.txt"))):
        match = RAW_NAME.match(os.path.basename(file))
        if not match:
            continue
        path, benchmark, library, repetition = match.groups()
        if benchmark not in BENCHMARKS:
            continue
        repetitions.add(int(repetition))
        for size, value in read_rows(file, benchmark).items():
            data[(path, benchmark)][size][library].append(value)
            by_repetition[(path, benchmark)][size][int(repetition)][library] = value
    return data, by_repetition, repetitions


def load_placements(results):
    """{(path, benchmark, library, repetition): 'fast' | 'slow'} from runs.tsv's placement probes;
    runs whose two probes disagree (or results without probes) are left out, and so are runs that
    compare.sh made again because the placement changed during them (counts = 0)."""
    placements = {}
    runs = os.path.join(results, "runs.tsv")
    if not os.path.exists(runs):
        return placements
    with open(runs) as f:
        for row in csv.DictReader(f, delimiter="\t"):
            try:
                probes = (float(row["probe_before_us"]), float(row["probe_after_us"]))
            except (KeyError, TypeError, ValueError):
                continue
            if row.get("counts", "1") == "0":
                continue
            key = (row["path"], row["benchmark"], row["library"], int(row["rep"]))
            if max(probes) < PLACEMENT_THRESHOLD_US:
                placements[key] = "fast"
            elif min(probes) >= PLACEMENT_THRESHOLD_US:
                placements[key] = "slow"
    return placements


def load_launch(results):
    """{test: {library: [hyperfine median in ms per repetition]}} (test: 'true' or 'hello')."""
    by_name = {name: key for key, name, _ in LIBRARIES}
    launch = defaultdict(lambda: defaultdict(list))
    for file in sorted(glob.glob(os.path.join(results, "launch", "*.rep*.json"))):
        test = os.path.basename(file).split(".")[0]
        with open(file) as f:
            for result in json.load(f)["results"]:
                library = by_name.get(result["command"])
                if library:
                    launch[test][library].append(result["median"] * 1e3)
    return launch


# ----------------------------------------------------------------------------------- numbers

def stats(values):
    """(median, spread in %, min, max) of one cell."""
    median = statistics.median(values)
    spread = 100 * (max(values) - min(values)) / (2 * median) if median > 0 else 0.0
    return median, spread, min(values), max(values)


def number(value):
    """Three significant digits or so, without exponents for the usual ranges."""
    if value >= 1e6:
        return f"{value / 1e6:.2f}M"
    if value >= 1000:
        return f"{value:.0f}"
    if value >= 100:
        return f"{value:.1f}"
    return f"{value:.2f}" if value >= 0.01 or value == 0 else f"{value:.2g}"


def size_label(size):
    for unit, shift in (("M", 20), ("K", 10)):
        if size >= 1 << shift and size % (1 << shift) == 0:
            return f"{size >> shift}{unit}"
    return str(size)


def placement_ratio(repetitions, placements, key, placement, higher_is_better):
    """(ratio, 'x.xx (n, m)') of the medians over the runs made in `placement` only: SwiftMPI's over
    the best peer's, n and m their numbers of runs; (None, '–') when a side has none."""
    values = defaultdict(list)
    for repetition, by_library in repetitions.items():
        for lib, value in by_library.items():
            if placements.get((*key, lib, repetition)) == placement:
                values[lib].append(value)
    medians = {lib: statistics.median(v) for lib, v in values.items()}
    best = best_peer(medians, higher_is_better)
    if best is None:
        return None, "–"
    ratio = medians["swiftmpi"] / medians[best]
    return ratio, f"{ratio:.2f} ({len(values['swiftmpi'])}, {len(values[best])})"


def best_peer(medians, higher_is_better):
    """The peer library with the best median, or None when SwiftMPI or every peer is missing."""
    peers = {lib: v for lib, v in medians.items() if lib != "swiftmpi" and v > 0}
    if "swiftmpi" not in medians or not peers:
        return None
    return (max if higher_is_better else min)(peers, key=peers.get)


def ratio_cell(medians, higher_is_better):
    """'0.93 (Open MPI)': SwiftMPI / the best peer of the row; None when a side is missing."""
    best = best_peer(medians, higher_is_better)
    if best is None:
        return None, "–"
    ratio = medians["swiftmpi"] / medians[best]
    return ratio, f"{ratio:.2f} ({NAME[best]})"


# ------------------------------------------------------------------------------------ tables

def header_lines(results, repetitions, libraries):
    title = " vs ".join(NAME[lib] for lib in libraries)
    lines = [f"# {title} — {os.path.basename(os.path.normpath(results))}", ""]
    env = os.path.join(results, "env.txt")
    sections = {}
    if os.path.exists(env):
        current = None
        with open(env, errors="replace") as f:
            for line in f:
                if line.startswith("## "):
                    current = line[3:].strip()
                    sections[current] = []
                elif current:
                    sections[current].append(line.rstrip())
        for key in ("date", "settings", "swiftmpi", "warning", "open mpi", "mpich", "load"):
            if sections.get(key):
                lines.append(f"- {key}: {' '.join(sections[key][0].split())}")
        cpu = [line for line in sections.get("cpu", []) if line.startswith(("Model name", "CPU(s)"))]
        if cpu:
            lines.append("- cpu: " + "; ".join(" ".join(line.split()) for line in cpu))
    lines += [
        f"- repetitions: {len(repetitions)} (interleaved); each cell is the median, ±x% = (max − min) / 2 as % of the median",
        "- SwiftMPI / best peer: SwiftMPI's median over the best peer's median in the row; "
        "the table title says whether lower or higher is better",
        "- fast / slow placement: the same ratio among the runs made in that vCPU placement only (a cache "
        f"line passed between the vCPUs in under / from {PLACEMENT_THRESHOLD_US} us before and after the run); "
        "(n, m): SwiftMPI's and the best peer's numbers of such runs",
    ]
    settings = " ".join(sections.get("settings", [""])[:1])
    gated = re.search(r"PLACEMENT=(fast|slow|match)\b", settings)
    if gated and gated.group(1) == "match":
        lines.append("- placement: in every repetition each benchmark's runs of all libraries were made in the same "
                     "placement, the one the first run found (compare.sh --placement match; runs were made again "
                     "when a probe showed the other one), so every library's medians come from the same mixture")
    elif gated:
        lines.append(f"- placement: every run waited for the {gated.group(1)} placement and was made again when the "
                     "probe afterwards showed the other one (compare.sh --placement), so the overall medians "
                     "compare every library in the same placement")
    lines.append("")
    return lines


def benchmark_tables(data, by_repetition, placements, libraries):
    lines, rows_csv = [], []
    for path in PATHS:
        for benchmark, (title, unit, higher) in BENCHMARKS.items():
            table = data.get((path, benchmark))
            if not table:
                continue
            better = "higher is better: ratio > 1 means SwiftMPI is faster" if higher \
                else "lower is better: ratio < 1 means SwiftMPI is faster"
            lines += [f"## {title}, {PATHS[path]} ({unit}; {better})", ""]
            size_column = "" if benchmark in SINGLE_VALUE else "size | "
            names = " | ".join(f"{NAME[lib]} (n={max(len(table[s][lib]) for s in table)})" for lib in libraries)
            lines.append(f"| {size_column}{names} | SwiftMPI / best peer | fast placement | slow placement |")
            lines.append("|" + "---:|" * ((0 if benchmark in SINGLE_VALUE else 1) + len(libraries) + 3))
            ratios, by_placement = [], {"fast": [], "slow": []}
            for size in sorted(table):
                cells, medians = [], {}
                for lib in libraries:
                    values = table[size].get(lib)
                    if not values:
                        cells.append("–")
                        continue
                    median, spread, low, high = stats(values)
                    medians[lib] = median
                    cells.append(f"{number(median)} ±{spread:.0f}%")
                    rows_csv.append([path, benchmark, size, lib, len(values), median, low, high])
                ratio, text = ratio_cell(medians, higher)
                if ratio:
                    ratios.append(ratio)
                placed = []
                for placement in ("fast", "slow"):
                    value, cell = placement_ratio(by_repetition.get((path, benchmark), {}).get(size, {}), placements,
                                                  (path, benchmark), placement, higher)
                    if value:
                        by_placement[placement].append(value)
                    placed.append(cell)
                first = "" if benchmark in SINGLE_VALUE else f"{size_label(size)} | "
                lines.append(f"| {first}{' | '.join(cells)} | {text} | {' | '.join(placed)} |")
            if len(ratios) > 1:
                means = [math.exp(sum(math.log(r) for r in values) / len(values)) if values else None
                         for values in (ratios, by_placement["fast"], by_placement["slow"])]
                blanks = " | " * (len(libraries) + 1)
                lines.append(f"| geometric mean{blanks}" + " | ".join(f"**{m:.2f}**" if m else "–" for m in means) + " |")
            lines.append("")
    return lines, rows_csv


def launch_table(launch, libraries):
    if not launch:
        return []
    tests = {"true": "`-n 2 /bin/true` (the launcher alone)",
             "hello": "`-n 2` hello: init, one line, finalize (shm path options)"}
    lines = ["## Launch time, 2 ranks (ms; hyperfine median per repetition, then the median over "
             "repetitions; lower is better: ratio < 1 means SwiftMPI is faster)", "",
             "| job | " + " | ".join(NAME[lib] for lib in libraries) + " | SwiftMPI / best peer |",
             "|---|" + "---:|" * (len(libraries) + 1)]
    for test, label in tests.items():
        if test not in launch:
            continue
        cells, medians = [], {}
        for lib in libraries:
            values = launch[test].get(lib)
            if not values:
                cells.append("–")
                continue
            median, spread, _, _ = stats(values)
            medians[lib] = median
            cells.append(f"{number(median)} ±{spread:.0f}%")
        lines.append(f"| {label} | {' | '.join(cells)} | {ratio_cell(medians, False)[1]} |")
    return lines + [""]


# --------------------------------------------------------------------------------------- SVG

PANEL_W, PANEL_H = 560, 330
LEFT, RIGHT, TOP, BOTTOM = 72, 16, 34, 46


def compact(value):
    """Axis labels: 0.01, 1, 500, 5000, 20K, 1M."""
    if value >= 1e6:
        return f"{value / 1e6:g}M"
    return f"{value / 1e3:g}K" if value >= 1e4 else f"{value:g}"


def panel(x0, y0, title, unit, series):
    """SVG elements of one panel. series: {library: [(size, median, low, high)]}, sizes > 0."""
    points = [p for values in series.values() for p in values]
    if not points:
        return []
    e = []
    plot_w, plot_h = PANEL_W - LEFT - RIGHT, PANEL_H - TOP - BOTTOM
    px0, py0 = x0 + LEFT, y0 + TOP
    x_lo = math.log2(min(p[0] for p in points))
    x_hi = math.log2(max(p[0] for p in points))
    if x_hi == x_lo:
        x_lo, x_hi = x_lo - 1, x_hi + 1
    y_lo = math.floor(math.log10(min(p[2] for p in points)))
    y_hi = math.ceil(math.log10(max(p[3] for p in points)))
    if y_hi == y_lo:
        y_hi += 1

    def sx(size):
        return px0 + (math.log2(size) - x_lo) / (x_hi - x_lo) * plot_w

    def sy(value):
        return py0 + plot_h - (math.log10(value) - y_lo) / (y_hi - y_lo) * plot_h

    e.append(f'<text x="{x0 + PANEL_W / 2:.0f}" y="{y0 + 20}" text-anchor="middle" '
             f'font-size="14" font-weight="bold">{html.escape(title)}</text>')
    # y grid: decades (labelled) and 2..9 between them (faint; 2 and 5 labelled on short axes)
    for exponent in range(y_lo, y_hi + 1):
        y = sy(10.0 ** exponent)
        e.append(f'<line x1="{px0}" y1="{y:.1f}" x2="{px0 + plot_w}" y2="{y:.1f}" stroke="#bbb"/>')
        e.append(f'<text x="{px0 - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{compact(10.0 ** exponent)}</text>')
        for step in range(2, 10) if exponent < y_hi else []:
            value = step * 10.0 ** exponent
            y = sy(value)
            e.append(f'<line x1="{px0}" y1="{y:.1f}" x2="{px0 + plot_w}" y2="{y:.1f}" stroke="#eee"/>')
            if y_hi - y_lo <= 2 and step in (2, 5):
                e.append(f'<text x="{px0 - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="10" '
                         f'fill="#666">{compact(value)}</text>')
    # x grid: powers of two, at most about 12 labels
    stride = max(1, math.ceil((x_hi - x_lo) / 11))
    for exponent in range(math.ceil(x_lo), math.floor(x_hi) + 1):
        x = sx(2 ** exponent)
        labelled = (exponent - math.ceil(x_lo)) % stride == 0
        e.append(f'<line x1="{x:.1f}" y1="{py0}" x2="{x:.1f}" y2="{py0 + plot_h}" '
                 f'stroke="{"#ccc" if labelled else "#eee"}"/>')
        if labelled:
            e.append(f'<text x="{x:.1f}" y="{py0 + plot_h + 16}" text-anchor="middle" '
                     f'font-size="11">{size_label(2 ** exponent)}</text>')
    e.append(f'<rect x="{px0}" y="{py0}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#333"/>')
    e.append(f'<text x="{px0 + plot_w / 2:.0f}" y="{py0 + plot_h + 36}" text-anchor="middle" '
             f'font-size="12">message size (bytes)</text>')
    e.append(f'<text transform="translate({x0 + 16},{py0 + plot_h / 2:.0f}) rotate(-90)" '
             f'text-anchor="middle" font-size="12">{html.escape(unit)}</text>')
    # one line per library, a dot per median, a whisker from min to max
    for key, name, colour in LIBRARIES:
        values = series.get(key)
        if not values:
            continue
        line = " ".join(f"{sx(s):.1f},{sy(m):.1f}" for s, m, _, _ in values)
        e.append(f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for size, median, low, high in values:
            x = sx(size)
            e.append(f'<line x1="{x:.1f}" y1="{sy(low):.1f}" x2="{x:.1f}" y2="{sy(high):.1f}" '
                     f'stroke="{colour}" stroke-opacity="0.5"/>')
            e.append(f'<circle cx="{x:.1f}" cy="{sy(median):.1f}" r="2.5" fill="{colour}">'
                     f'<title>{name}, {size_label(size)} B: {number(median)} {html.escape(unit)} '
                     f'(min {number(low)}, max {number(high)})</title></circle>')
    return e


def svg_plot(data, libraries, title):
    sweeps = [b for b in BENCHMARKS if b not in SINGLE_VALUE and any((p, b) in data for p in PATHS)]
    paths = [p for p in PATHS if any((p, b) in data for b in sweeps)]
    if not sweeps:
        return None
    legend_h = 50
    width, height = PANEL_W * len(paths), legend_h + PANEL_H * len(sweeps)
    e = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
         f'viewBox="0 0 {width} {height}" font-family="sans-serif">',
         f'<rect width="{width}" height="{height}" fill="white"/>',
         f'<text x="12" y="22" font-size="15" font-weight="bold">{html.escape(title)}</text>']
    x = 12
    colours = {key: colour for key, _, colour in LIBRARIES}
    for key in libraries:
        colour = colours[key]
        e.append(f'<line x1="{x}" y1="38" x2="{x + 24}" y2="38" stroke="{colour}" stroke-width="3"/>')
        e.append(f'<text x="{x + 30}" y="42" font-size="12">{NAME[key]}</text>')
        x += 40 + 8 * len(NAME[key])
    e.append(f'<text x="{x + 10}" y="42" font-size="11" fill="#666">median over repetitions; '
             f'whiskers: min–max; size 0 omitted</text>')
    for row, benchmark in enumerate(sweeps):
        name, unit, higher = BENCHMARKS[benchmark]
        for column, path in enumerate(paths):
            table = data.get((path, benchmark), {})
            series = defaultdict(list)
            for size in sorted(table):
                for lib in libraries:
                    values = table[size].get(lib)
                    if size > 0 and values and min(values) > 0:
                        median, _, low, high = stats(values)
                        series[lib].append((size, median, low, high))
            arrow = "higher is better" if higher else "lower is better"
            e += panel(column * PANEL_W, legend_h + row * PANEL_H,
                       f"{name}, {PATHS[path]}", f"{unit} ({arrow})", series)
    e.append("</svg>")
    return "\n".join(e) + "\n"


# -------------------------------------------------------------------------------------- main

def newest_results():
    here = os.path.dirname(os.path.abspath(__file__))
    runs = sorted(d for d in glob.glob(os.path.join(here, "results", "*")) if os.path.isdir(d))
    if not runs:
        sys.exit("plot.py: no RESULTS_DIR given and nothing in Benchmarks/results/")
    return runs[-1]


def main():
    if len(sys.argv) > 2 or (len(sys.argv) == 2 and sys.argv[1] in ("-h", "--help")):
        print(__doc__)
        sys.exit(0 if len(sys.argv) == 2 else 2)
    results = sys.argv[1] if len(sys.argv) == 2 else newest_results()
    data, by_repetition, repetitions = load_benchmarks(results)
    launch = load_launch(results)
    if not data and not launch:
        sys.exit(f"plot.py: no results in {results}/raw or {results}/launch")
    present = {lib for table in data.values() for row in table.values() for lib in row}
    present |= {lib for test in launch.values() for lib in test}
    libraries = [key for key, _, _ in LIBRARIES if key in present]

    tables, rows_csv = benchmark_tables(data, by_repetition, load_placements(results), libraries)
    markdown = "\n".join(header_lines(results, repetitions, libraries) + tables + launch_table(launch, libraries))
    with open(os.path.join(results, "summary.md"), "w") as f:
        f.write(markdown)
    with open(os.path.join(results, "summary.csv"), "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["path", "benchmark", "size", "library", "n", "median", "min", "max"])
        writer.writerows(rows_csv)
    svg = svg_plot(data, libraries, f"{' vs '.join(NAME[lib] for lib in libraries)}, 2 ranks — {os.path.basename(os.path.normpath(results))}")
    if svg:
        with open(os.path.join(results, "plot.svg"), "w") as f:
            f.write(svg)
    try:
        print(markdown)
    except BrokenPipeError:  # plot.py | head
        sys.stderr.close()


if __name__ == "__main__":
    main()
