#!/usr/bin/env python3
"""Run lu-bench in the module guest and the in-kernel LUO guest, and report.

  run-bench.py [--runs N] [--out build/bench] [--flavors default,upstream]
               [--bench-args "--mib 64,256,1024 ..."] [--memory 4G] [-v]
  run-bench.py --report-only [--out build/bench]

Each run of a flavor is one QEMU boot chain (TCG, the same settings for both):
stage 1 preserves, lu-bench kexecs itself, stage 2 retrieves (bench/bench.sh,
bench/src/lu_bench.c). Runs alternate between flavors so that a slow spell of
the (shared, 2-core) host hits both alike. The host stamps every console line
as it arrives; the blackout is the time from lu-bench's LU-BENCH-REBOOT line
(printed and drained right before reboot(LINUX_REBOOT_CMD_KEXEC)) to the new
kernel's first /init line ("LU-BOOT test=bench stage=2").

Writes OUT/runs.json (every run's raw figures), OUT/results.json (medians and
the table), OUT/table.md, OUT/*.dat and OUT/scaling.png (gnuplot).
"""

import argparse
import json
import os
import re
import selectors
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLAVOR_OUT = {"default": "out", "upstream": "out-upstream", "debug": "out-debug"}
# Same list as qemu/run-test.py: a kernel report anywhere spoils the run.
KERNEL_REPORTS = ("BUG:", "WARNING:", "KASAN:", "Kernel panic", "Oops",
                  "possible circular locking", "UBSAN:",
                  "general protection fault", "list_add corruption")
BENCH_RE = re.compile(r"^LU-BENCH (\S+) (\S+)$")
BOOT2_RE = re.compile(r"^LU-BOOT test=bench stage=2")
STAGE_TIMEOUT = 600  # seconds per boot; TCG under load can be slow

MIB = (64, 256, 1024)
THP_MIB = 256
FILES = (10, 100, 1000, 5000)
SESSIONS = 5000
SESSION_POINTS = (10, 100, 1000, 5000)

# --- the in-kernel LUO's handover metadata, from its 7.3 ABI -------------
# (include/linux/kho/abi/luo.h, memfd.h; kernel/liveupdate/kho_block.c): it
# has no call that reports it, so it is computed from the formats.
PAGE = 4096
UP_FILE_SER = 64         # struct luo_file_ser, in 4 KiB kho blocks
UP_MEMFD_SER_PAGES = 1   # struct memfd_luo_ser, kho_alloc_preserve(): a page
UP_FOLIO_SER = 16        # struct memfd_luo_folio_ser, one per folio
VMALLOC_CHUNK_SLOTS = 511  # page addresses per kho_vmalloc chunk page


def upstream_file_metadata(nr_folios):
    """Bytes the in-kernel LUO hands over for one memfd of nr_folios folios."""
    total = UP_FILE_SER + UP_MEMFD_SER_PAGES * PAGE
    if nr_folios:
        pages = -(-nr_folios * UP_FOLIO_SER // PAGE)
        total += (pages + -(-pages // VMALLOC_CHUNK_SLOTS)) * PAGE
    return total


def run_key(flavor, mode):
    return flavor if mode == "now" else f"{flavor}-{mode}"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def build_initramfs(out, flavor, mode, bench_args, binary):
    """The flavor's test initramfs plus an overlay with the benchmark."""
    outdir = os.path.join(ROOT, "build", FLAVOR_OUT[flavor])
    work = os.path.join(out, "initramfs")
    os.makedirs(work, exist_ok=True)
    base = os.path.join(work, f"base-{flavor}.cpio.gz")
    subprocess.run([os.path.join(ROOT, "qemu", "mkinitramfs.sh"), outdir, base,
                    flavor], check=True)
    args_file = os.path.join(work, f"bench-{mode}.args")
    with open(args_file, "w") as f:
        f.write(bench_args + "\n")
    listing = os.path.join(work, f"overlay-{flavor}-{mode}.list")
    with open(listing, "w") as f:
        f.write("dir /selftests 0755 0 0\n")
        f.write("dir /selftests/bin 0755 0 0\n")
        f.write(f"file /selftests/bench.sh {ROOT}/bench/bench.sh 0644 0 0\n")
        f.write(f"file /selftests/bench.args {args_file} 0644 0 0\n")
        f.write(f"file /selftests/bin/lu-bench {binary} 0755 0 0\n")
    cpio = subprocess.run([os.path.join(outdir, "gen_init_cpio"), listing],
                          check=True, stdout=subprocess.PIPE).stdout
    overlay = subprocess.run(["gzip", "-n", "-6"], input=cpio, check=True,
                             stdout=subprocess.PIPE).stdout
    # The kernel unpacks concatenated archives in order; kexec passes the
    # whole image on (retain_initrd, /boot/initramfs.cpio.gz).
    dest = os.path.join(work, f"{flavor}-{mode}.cpio.gz")
    with open(dest, "wb") as f:
        with open(base, "rb") as b:
            shutil.copyfileobj(b, f)
        f.write(overlay)
    return dest


def qemu_command(flavor, initrd, memory):
    outdir = os.path.join(ROOT, "build", FLAVOR_OUT[flavor])
    cmdline = ["console=ttyS0", "kho=on", "no5lvl", "no_timer_check", "retain_initrd",
               "panic=-1", "loglevel=4", "lu.test=bench", "lu.stage=1", "lu.stages=2",
               # No HPET without ACPI: the TSC is the only fine clock, and
               # its watchdog (against jiffies) can demote it to jiffies'
               # 4 ms steps under a loaded TCG host.
               "tsc=reliable"]
    if flavor == "upstream":
        cmdline.append("liveupdate=on")
    return ["qemu-system-x86_64", "-accel", "tcg", "-cpu", "max", "-m", memory,
            # Two sockets: the MP table shows one CPU per package
            # (qemu/run-test.py).
            "-smp", "2,sockets=2,cores=1,threads=1", "-nographic", "-no-reboot",
            "-kernel", os.path.join(outdir, "bzImage"), "-initrd", initrd,
            "-append", " ".join(cmdline)]


def timed_lines(proc, timeout):
    """(host monotonic time of arrival, line) for each console line."""
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    buf = b""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            yield None, None
            return
        if not sel.select(left):
            continue
        chunk = os.read(proc.stdout.fileno(), 65536)
        stamp = time.monotonic()
        if not chunk:
            break
        buf += chunk
        *lines, buf = buf.split(b"\n")
        for line in lines:
            text = line.decode("utf-8", "replace").rstrip("\r")
            if BOOT2_RE.match(text) or text.startswith("LU-BENCH-REBOOT"):
                deadline = time.monotonic() + timeout
            yield stamp, text
    if buf:
        yield time.monotonic(), buf.decode("utf-8", "replace").rstrip("\r")


def run_once(flavor, initrd, memory, log_path, verbose):
    """One boot chain; returns (figures, failures)."""
    figures, failures = {}, []
    reboot_at = None
    cmd = qemu_command(flavor, initrd, memory)
    with open(log_path, "w") as logf:
        logf.write("# " + " ".join(cmd) + "\n")
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            for stamp, line in timed_lines(proc, STAGE_TIMEOUT):
                if line is None:
                    failures.append(f"timed out after {STAGE_TIMEOUT} s")
                    break
                logf.write(f"[{stamp:.6f}] {line}\n")
                if verbose:
                    log(line)
                m = BENCH_RE.match(line)
                if m:
                    figures[m.group(1)] = float(m.group(2))
                elif line.startswith("LU-BENCH-REBOOT"):
                    reboot_at = stamp
                elif BOOT2_RE.match(line):
                    if reboot_at is None:
                        failures.append("stage 2 booted without a reboot line")
                    else:
                        figures["blackout"] = stamp - reboot_at
                elif line.startswith("# clocksource:") and "jiffies" in line.split()[2]:
                    failures.append("the guest's clock is jiffies: " + line)
                elif line.startswith("not ok"):
                    failures.append(line)
                elif line.startswith("LU-DONE"):
                    break
                elif not line.startswith("#") and any(r in line for r in KERNEL_REPORTS):
                    failures.append("kernel: " + line.strip())
        finally:
            proc.kill()
            proc.wait()
    if "blackout" not in figures:
        failures.append("no stage 2")
    elif "memtotal_finished" not in figures:
        failures.append("stage 2 did not finish")
    return figures, failures


# --- the table ---------------------------------------------------------------

def per(n):
    return lambda f, key: f[key] / n if key in f else None


def ms(value):
    return None if value is None else value * 1e3


def us(value):
    return None if value is None else value * 1e6


def row_specs(settle_ms=0):
    """(label, unit, what, kind [, mode]) per row; what(figures, flavor) -> value."""
    rows = []

    def key(k, scale=ms):
        return lambda f, flavor: scale(f.get(k))

    for mib in MIB:
        rows.append((f"preserve memfd {mib} MiB", "ms", key(f"preserve_mem_{mib}"), "preserve"))
    rows.append((f"preserve memfd {THP_MIB} MiB THP", "ms", key(f"preserve_thp_{THP_MIB}"), "preserve"))
    for kind, mib in [("mem", m) for m in MIB] + [("thp", THP_MIB)]:
        label = f"memfd {mib} MiB{' THP' if kind == 'thp' else ''}"
        rows.append((f"retrieve {label} (RETRIEVE_FD)", "ms",
                     key(f"retrieve_{kind}_{mib}"), "memfd-retrieve"))
        rows.append(("  first byte readable, from RETRIEVE_FD", "ms",
                     key(f"first_byte_{kind}_{mib}"), "memfd-retrieve"))
        rows.append(("  every byte read, from RETRIEVE_FD", "ms",
                     key(f"full_read_{kind}_{mib}"), "memfd-retrieve"))
        rows.append(("  restore work (ours: worker after load; upstream: in RETRIEVE_FD)", "ms",
                     restore_work(kind, mib), "restore"))
        rows.append(("  first byte readable, from stage-2 start (incl. module load)", "ms",
                     key(f"readable_since_start_{kind}_{mib}"), "restore"))
    if settle_ms:
        for kind, mib in [("mem", m) for m in MIB] + [("thp", THP_MIB)]:
            label = f"memfd {mib} MiB{' THP' if kind == 'thp' else ''}"
            rows.append((f"retrieve {label}, {settle_ms / 1000:g} s after load (RETRIEVE_FD)",
                         "ms", key(f"retrieve_{kind}_{mib}"), "memfd-retrieve", "settled"))
            rows.append(("  every byte read, from RETRIEVE_FD", "ms",
                         key(f"full_read_{kind}_{mib}"), "memfd-retrieve", "settled"))
    rows.append(("preserve, per file (1000 memfds, one session)", "us",
                 lambda f, fl: us(per(1000)(f, "preserve_files_1000")), "preserve"))
    rows.append(("retrieve, per file (1000 memfds, one session)", "us",
                 lambda f, fl: us(per(1000)(f, "retrieve_files_1000")), "retrieve"))
    rows.append((f"create session, per session ({SESSIONS})", "us",
                 lambda f, fl: us(per(SESSIONS)(f, f"create_sessions_{SESSIONS}")), "preserve"))
    rows.append((f"retrieve session, per session ({SESSIONS})", "us",
                 lambda f, fl: us(per(SESSIONS)(f, f"retrieve_sessions_{SESSIONS}")), "retrieve"))
    rows.append(("finish session, per session", "us",
                 lambda f, fl: us(per(SESSIONS)(f, "finish_sessions_all")), "info"))
    rows.append(("blackout: reboot line to new /init (host clock)", "ms", key("blackout"), "info"))
    rows.append(("module load in the new kernel", "ms",
                 lambda f, fl: ms(f.get("module_load")) if fl == "default" else None, "info"))
    rows.append(("blackout + module load", "ms",
                 lambda f, fl: ms(f["blackout"] + f.get("module_load", 0))
                 if "blackout" in f else None, "info"))
    rows.append(("memory left preserved after FINISH (MemTotal vs. a chain preserving nothing)",
                 "KiB", left_preserved, "info"))
    rows.append(("handover metadata, per small file", "B", metadata_per_file, "metadata"))
    rows.append(("handover metadata, per GiB of memfd", "B", metadata_per_gib, "metadata"))
    rows.append(("MemFree drop at preserve, per GiB", "KiB",
                 lambda f, fl: f["memfree_drop_mem_1024"] / 1024
                 if "memfree_drop_mem_1024" in f else None, "info"))
    rows.append((f"THP {THP_MIB} MiB: 2 MiB folios after retrieve", "%", thp_kept, "thp"))
    return rows


def restore_work(kind, mib):
    """Ours: the worker's start to ready; upstream restores in RETRIEVE_FD."""
    def what(f, flavor):
        if flavor == "upstream":
            return ms(f.get(f"retrieve_{kind}_{mib}"))
        start, ready = f.get(f"restore_start_{kind}_{mib}"), f.get(f"restore_ready_{kind}_{mib}")
        if start is None or ready is None:
            return ms(f.get(f"retrieve_{kind}_{mib}"))
        return ms(ready - start)
    return what


def left_preserved(f, flavor):
    control = f.get("control_memtotal_finished")
    if control is None or "memtotal_finished" not in f:
        return None
    return (control - f["memtotal_finished"]) / 1024


def metadata_per_file(f, flavor):
    if flavor == "upstream":
        return upstream_file_metadata(1)
    key = "metadata_files_1000"
    return f[key] / 1000 if key in f else None


def metadata_per_gib(f, flavor):
    if flavor == "upstream":
        return upstream_file_metadata(1024 * 1024 * 1024 // PAGE)
    return f.get("metadata_mem_1024")


def thp_kept(f, flavor):
    before = f.get(f"thp_kib_before_{THP_MIB}")
    after = f.get(f"thp_kib_after_{THP_MIB}")
    if not before or after is None:
        return None
    return 100.0 * after / before


STAGE1_PREFIXES = ("preserve_", "create_sessions_", "fill_", "metadata_",
                   "memfree_drop_", "thp_kib_before_")
STAGE1_KEYS = ("module_load_cold", "kexec_file_load", "memtotal_stage1")


def median_figures(runs):
    keys = sorted({k for r in runs for k in r})
    return {k: statistics.median([r[k] for r in runs if k in r]) for k in keys}


def fmt(value, unit):
    if value is None:
        return "n/a"
    if unit in ("B", "KiB") and abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def build_table(medians, settle_ms=0):
    table = []
    for label, unit, what, kind, *mode in row_specs(settle_ms):
        mode = mode[0] if mode else "now"
        ours = medians.get(run_key("default", mode), {})
        up = medians.get(run_key("upstream", mode), {})
        a = what(ours, "default") if ours else None
        b = what(up, "upstream") if up else None
        ratio = a / b if a is not None and b not in (None, 0) else None
        table.append({"row": label, "unit": unit, "ours": a, "upstream": b,
                      "ratio": ratio, "kind": kind, "mode": mode,
                      "target": target(kind, a, ratio)})
    return table


# The targets, per kind of row: the ratio ours/upstream at most
# this. "restore" rows are the memfd retrieve work itself (ours happens on
# workers before RETRIEVE_FD), held to the memfd retrieve target.
TARGETS = {"preserve": 1.0, "retrieve": 1.0, "memfd-retrieve": 0.5,
           "restore": 0.5, "metadata": 1.0}


def target(kind, ours, ratio):
    if kind == "thp":
        return None if ours is None else ("met" if ours >= 99.9 else "NOT met")
    limit = TARGETS.get(kind)
    if limit is None or ratio is None:
        return None
    return f"{'met' if ratio <= limit else 'NOT met'} (<= {limit:g}x)"


def render(table, runs_ok):
    head = (f"| row | unit | ours | upstream | ratio | target |\n"
            f"| --- | --- | ---: | ---: | ---: | --- |\n")
    lines = []
    for r in table:
        ratio = "n/a" if r["ratio"] is None else f"{r['ratio']:.2f}x"
        lines.append(f"| {r['row']} | {r['unit']} | {fmt(r['ours'], r['unit'])} | "
                     f"{fmt(r['upstream'], r['unit'])} | {ratio} | {r['target'] or ''} |")
    runs = ", ".join(f"{k}: {v}" for k, v in runs_ok.items())
    return (head + "\n".join(lines) +
            f"\n\nMedians of {runs} boot chains (preserve-side rows: of the now and settled "
            "chains together); TCG guests on 2 contended host cores.\n")


def print_plain(table):
    width = max(len(r["row"]) + len(r["unit"]) + 3 for r in table)
    print(f"{'row':<{width}} {'ours':>12} {'upstream':>12} {'ratio':>7}  target")
    for r in table:
        ratio = "n/a" if r["ratio"] is None else f"{r['ratio']:.2f}x"
        label = f"{r['row']} ({r['unit']})"
        print(f"{label:<{width}} {fmt(r['ours'], r['unit']):>12} "
              f"{fmt(r['upstream'], r['unit']):>12} {ratio:>7}  {r['target'] or ''}")


# --- the scaling plot --------------------------------------------------------

def write_plot(out, medians):
    ours, up = medians.get("default", {}), medians.get("upstream", {})
    ours_s = medians.get(run_key("default", "settled"), {})
    up_s = medians.get(run_key("upstream", "settled"), {})

    def val(f, k):
        return f"{f[k] * 1e3:.3f}" if k in f else "NaN"

    def work(f, mib):
        w = restore_work("mem", mib)(f, "default") if f else None
        return "NaN" if w is None else f"{w:.3f}"

    with open(os.path.join(out, "size.dat"), "w") as d:
        d.write("# MiB ours_preserve up_preserve ours_restore_work up_retrieve "
                "ours_retrieve_settled up_retrieve_settled (ms)\n")
        for mib in MIB:
            d.write(f"{mib} {val(ours, f'preserve_mem_{mib}')} {val(up, f'preserve_mem_{mib}')} "
                    f"{work(ours, mib)} {val(up, f'retrieve_mem_{mib}')} "
                    f"{val(ours_s, f'retrieve_mem_{mib}')} {val(up_s, f'retrieve_mem_{mib}')}\n")
    with open(os.path.join(out, "count.dat"), "w") as d:
        d.write("# N ours_fpres up_fpres ours_fret up_fret ours_screate up_screate ours_sret up_sret (ms)\n")
        for n in sorted(set(FILES) | set(SESSION_POINTS)):
            d.write(f"{n} {val(ours, f'preserve_files_{n}')} {val(up, f'preserve_files_{n}')} "
                    f"{val(ours, f'retrieve_files_{n}')} {val(up, f'retrieve_files_{n}')} "
                    f"{val(ours, f'create_sessions_{n}')} {val(up, f'create_sessions_{n}')} "
                    f"{val(ours, f'retrieve_sessions_{n}')} {val(up, f'retrieve_sessions_{n}')}\n")
    script = os.path.join(out, "scaling.gp")
    with open(script, "w") as g:
        g.write(f"""set terminal pngcairo size 1400,600 noenhanced font ",10"
set output "{out}/scaling.png"
set multiplot layout 1,2 title "liveupdate module (ours) vs in-kernel LUO of 7.3 (upstream); TCG, 2 contended cores, medians"
set logscale xy
set grid
set key top left
set xlabel "memfd size (MiB), every byte written"
set ylabel "ms"
set xtics (64, 256, 1024)
set yrange [0.001:*]
set key bottom left
plot "{out}/size.dat" u 1:2 w lp lw 2 t "ours: PRESERVE_FD", \\
     "" u 1:3 w lp lw 2 dt 2 t "upstream: PRESERVE_FD", \\
     "" u 1:4 w lp lw 2 t "ours: restore work (worker, from module load)", \\
     "" u 1:5 w lp lw 2 dt 2 t "upstream: restore work (= RETRIEVE_FD)", \\
     "" u 1:6 w lp lw 2 t "ours: RETRIEVE_FD 3 s after load", \\
     "" u 1:7 w lp lw 2 dt 2 t "upstream: RETRIEVE_FD 3 s after load"
set yrange [*:*]
set key top left
set xlabel "files in one session / sessions (4 KiB memfds; empty sessions)"
set xtics auto
plot "{out}/count.dat" u 1:2 w lp lw 2 t "ours: preserve N files", \\
     "" u 1:3 w lp lw 2 dt 2 t "upstream: preserve N files", \\
     "" u 1:4 w lp lw 2 t "ours: retrieve N files", \\
     "" u 1:5 w lp lw 2 dt 2 t "upstream: retrieve N files", \\
     "" u 1:6 w lp lw 2 t "ours: create N sessions", \\
     "" u 1:7 w lp lw 2 dt 2 t "upstream: create N sessions", \\
     "" u 1:8 w lp lw 2 t "ours: retrieve N sessions", \\
     "" u 1:9 w lp lw 2 dt 2 t "upstream: retrieve N sessions"
unset multiplot
""")
    terminal_ok = subprocess.run(["gnuplot", "-e", "set terminal pngcairo"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if terminal_ok.returncode != 0:
        # gnuplot-nox without cairo: the plain png terminal.
        with open(script) as g:
            text = g.read().replace('pngcairo size 1400,600 noenhanced font ",10"',
                                    "png size 1400,600 noenhanced")
        with open(script, "w") as g:
            g.write(text)
    if subprocess.run(["gnuplot", script]).returncode != 0:
        log("run-bench: gnuplot failed; no plot")
        return None
    return os.path.join(out, "scaling.png")


def report(out):
    with open(os.path.join(out, "runs.json")) as f:
        raw = json.load(f)
    ok = {fl: [r["figures"] for r in rs if not r["failures"]] for fl, rs in raw["runs"].items()}
    runs_ok = {fl: len(rs) for fl, rs in ok.items()}
    # Stage 1 (everything up to the reboot) is the same in the "now" and
    # "settled" chains: its figures are medians over both.
    for fl in ("default", "upstream"):
        settled = ok.get(run_key(fl, "settled"), [])
        if fl in ok:
            ok[fl] = ok[fl] + [{k: v for k, v in r.items() if k in STAGE1_KEYS or
                                k.startswith(STAGE1_PREFIXES)} for r in settled]
    medians = {fl: median_figures(rs) for fl, rs in ok.items() if rs}
    for fl in ("default", "upstream"):
        control = medians.get(run_key(fl, "control"), {}).get("memtotal_finished")
        if control is not None and fl in medians:
            medians[fl]["control_memtotal_finished"] = control
    table = build_table(medians, raw.get("settings", {}).get("settle_ms", 0))
    md = render(table, runs_ok)
    with open(os.path.join(out, "table.md"), "w") as f:
        f.write(md)
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump({"runs_ok": runs_ok, "medians": medians, "table": table,
                   "settings": raw.get("settings", {})}, f, indent=1)
    print_plain(table)
    print(f"\n{md.splitlines()[-1]}")
    png = write_plot(out, medians) if shutil.which("gnuplot") else None
    if png:
        log(f"run-bench: plot {os.path.relpath(png, ROOT)}")
    failed = {fl: len(raw["runs"][fl]) - runs_ok.get(fl, 0) for fl in raw["runs"]}
    return 0 if not any(failed.values()) and all(runs_ok.values()) else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", default=os.path.join(ROOT, "build", "bench"))
    parser.add_argument("--flavors", default="default,upstream")
    # 3 GiB: all of it below 4 GiB, one zone (see README, Performance).
    parser.add_argument("--memory", default="3G")
    parser.add_argument("--bench-args", default="")
    parser.add_argument("--settle-ms", type=int, default=3000,
                        help="also run with stage 2 waiting this long before retrieving (0: don't)")
    parser.add_argument("--bin", default=os.path.join(ROOT, "build", "bench", "lu-bench"),
                        help="the lu-bench binary (bench/Makefile)")
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    if args.report_only:
        return report(out)

    flavors = args.flavors.split(",")
    # "now": stage 2 retrieves at once; "settled": after --settle-ms, as a
    # service that starts a while after the boot would (our module restores
    # from the moment it loads; the in-kernel LUO waits for RETRIEVE_FD).
    modes = {"now": args.bench_args}
    if args.settle_ms:
        modes["settled"] = f"{args.bench_args} --settle-ms {args.settle_ms}".strip()
    # Once per flavor: the same boot chain with nothing preserved, whose
    # MemTotal after stage 2 is the baseline for "memory left preserved".
    modes["control"] = "--mib 0 --thp-mib 0 --files 0 --sessions 0"
    initrds = {(fl, m): build_initramfs(out, fl, m, a, os.path.abspath(args.bin))
               for fl in flavors for m, a in modes.items()}
    raw = {"settings": {"runs": args.runs, "memory": args.memory,
                        "bench_args": modes, "settle_ms": args.settle_ms,
                        "qemu": {fl: qemu_command(fl, initrds[(fl, "now")], args.memory)
                                 for fl in flavors}},
           "runs": {run_key(fl, m): [] for fl in flavors for m in modes}}
    os.makedirs(os.path.join(out, "logs"), exist_ok=True)
    for n in range(1, args.runs + 1):
        for m in modes:
            if m == "control" and n > 1:
                continue
            for fl in flavors:
                key = run_key(fl, m)
                start = time.monotonic()
                log_path = os.path.join(out, "logs", f"{key}-{n}.log")
                for attempt in range(3):
                    figures, failures = run_once(fl, initrds[(fl, m)], args.memory,
                                                 log_path, args.verbose)
                    # A run timed in jiffies is not a result; try again.
                    if not any("clock is jiffies" in x for x in failures):
                        break
                    log(f"run-bench: {key} run {n}: the guest clock fell back to jiffies; again")
                raw["runs"][key].append({"figures": figures, "failures": failures})
                state = "ok" if not failures else "FAILED: " + "; ".join(failures[:3])
                log(f"run-bench: {key} run {n}/{args.runs}: "
                    f"{time.monotonic() - start:.0f} s, {state} "
                    f"(log {os.path.relpath(log_path, ROOT)})")
                with open(os.path.join(out, "runs.json"), "w") as f:
                    json.dump(raw, f, indent=1)
    return report(out)


if __name__ == "__main__":
    sys.exit(main())
