#!/usr/bin/env python3
"""Run guest tests in QEMU, one chain of kexec boots per test, and report TAP.

  run-test.py --outdir build/out --flavor default --test selftests/NAME.sh
              [--test ...] [--log-dir build/logs] [--kvm] [-v]

The guest /init (qemu/guest/init) prints "LU-BOOT test=NAME stage=N" when a
stage starts and "LU-DONE test=NAME" when the test is over; everything the
test prints as "ok - ..." / "not ok - ..." in between is a result. Kernel
reports anywhere in the serial log fail the test.
"""

import argparse
import concurrent.futures
import os
import re
import selectors
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Substrings of kernel log lines that fail a test: one list, one place.
KERNEL_REPORTS = (
    "BUG:",
    "WARNING:",
    "KASAN:",
    "Kernel panic",
    "Oops",
    "possible circular locking",
    "INFO: possible",
    "unreferenced object",
    "UBSAN:",
    "general protection fault",
    "list_add corruption",
    "ODEBUG:",
)
# A kmemleak or lockdep flood says nothing more after the first few lines.
MAX_KERNEL_REPORTS = 10

# Online CPUs of every guest (lu.cpus= tells the guest how many to expect):
# concurrency bugs need threads that really run at once.
GUEST_CPUS = 2

# Seconds per boot for tests without a TIMEOUT header. KASAN, lockdep and
# kmemleak under TCG make the debug flavor about three times slower, so a
# TIMEOUT header is scaled the same way there.
DEFAULT_TIMEOUT = 60
FLAVOR_TIMEOUT_FACTOR = {"debug": 3}

RESULT_RE = re.compile(r"^(ok|not ok)\b(?: -)? ?(.*)$")
BOOT_RE = re.compile(r"^LU-BOOT test=(\S*) stage=(\d+)")
DONE_RE = re.compile(r"^LU-DONE test=(\S*)")


def read_header(path):
    """The "# KEY: value" lines of the test's leading comment block."""
    header = {"STAGES": "1", "SOAK_STAGES": "", "CMDLINE": "", "FLAVORS": "default debug",
              "SOAK_FLAVORS": "", "TIMEOUT": str(DEFAULT_TIMEOUT), "GUEST": "busybox"}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                break
            m = re.match(r"^#\s*([A-Z_]+):\s*(.*)$", line)
            if m and m.group(1) in header:
                header[m.group(1)] = m.group(2).strip()
    return header


# GUEST: busybox (the default: our /init runs the test) or debian (Debian
# sid with systemd as PID 1: tests of systemd's own use of /dev/liveupdate).
# The initramfs each is built into (qemu/mkinitramfs.sh OUTDIR DEST FLAVOR GUEST).
GUESTS = {"busybox": "{flavor}.cpio.gz", "debian": "debian-{flavor}.cpio"}


def build_initramfs(outdir, flavor, guest):
    dest = os.path.join(ROOT, "build", "initramfs", GUESTS[guest].format(flavor=flavor))
    subprocess.run([os.path.join(ROOT, "qemu", "mkinitramfs.sh"), outdir, dest, flavor, guest],
                   check=True)
    return dest


def qemu_command(args, initrd, cmdline):
    if args.kvm:
        accel = ["-accel", "kvm", "-cpu", "host"]
    else:
        accel = ["-accel", "tcg", "-cpu", "max"]
    # One CPU per socket: the guest has no ACPI, and SeaBIOS's MP table
    # lists one processor per package, so cores of one socket stay offline.
    smp = f"{GUEST_CPUS},sockets={GUEST_CPUS},cores=1,threads=1"
    return ["qemu-system-x86_64", *accel, "-m", "2G", "-smp", smp,
            "-nographic", "-no-reboot",
            "-kernel", os.path.join(args.outdir, "bzImage"),
            "-initrd", initrd, "-append", cmdline]


def serial_lines(proc, deadline):
    """Yield the console's lines; yield None when deadline() has passed.

    deadline is a callable so that the caller can move it at each stage.
    """
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    buf = b""
    while True:
        left = deadline() - time.monotonic()
        if left <= 0:
            yield None
            return
        if not sel.select(left):
            continue
        chunk = os.read(proc.stdout.fileno(), 65536)
        if not chunk:
            break
        buf += chunk
        *lines, buf = buf.split(b"\n")
        for line in lines:
            yield line.decode("utf-8", "replace").rstrip("\r")
    if buf:
        yield buf.decode("utf-8", "replace").rstrip("\r")


class Run:
    """Results of one test's boot chain."""

    def __init__(self, name, stages):
        self.name = name
        self.stages = stages
        self.results = []  # (ok: bool, text)
        self.lines = []  # results and the guest's "# " diagnostics, in order
        self.booted = []  # stage numbers in boot order
        self.done = False
        self.reports = 0
        self.log = None

    def add(self, ok, text):
        self.results.append((ok, text))
        self.lines.append(f"{'ok' if ok else 'not ok'} {len(self.results)} - {text}")

    def fail(self, text):
        self.add(False, text)

    def stage_label(self):
        return f"[stage {self.booted[-1]}] " if self.booted else ""

    def counts(self):
        skipped = sum(1 for ok, t in self.results if ok and is_skip(t))
        passed = sum(1 for ok, _ in self.results if ok) - skipped
        failed = sum(1 for ok, _ in self.results if not ok)
        return passed, failed, skipped


def test_name(path):
    return os.path.splitext(os.path.basename(path))[0]


def is_skip(text):
    return re.search(r"#\s*SKIP\b", text, re.IGNORECASE) is not None


def scan_line(run, line):
    m = BOOT_RE.match(line)
    if m:
        stage = int(m.group(2))
        if m.group(1) != run.name:
            run.fail(f"stage {stage} booted test '{m.group(1)}'")
        run.booted.append(stage)
        return True
    if DONE_RE.match(line):
        run.done = True
        return False
    m = RESULT_RE.match(line)
    if m and run.booted:
        run.add(m.group(1) == "ok", run.stage_label() + m.group(2))
        return False
    # The test's diagnostics may quote kernel messages: relay, don't scan.
    if line.startswith("#"):
        if run.booted:
            run.lines.append(line)
        return False
    if any(r in line for r in KERNEL_REPORTS):
        run.reports += 1
        if run.reports <= MAX_KERNEL_REPORTS:
            run.fail(f"{run.stage_label()}kernel: {line.strip()}")
    return False


def run_test(args, initrd, path, header):
    name = test_name(path)
    # SOAK_STAGES: the full boot chain of a test that make test runs shortened.
    soak = os.environ.get("LU_SOAK") == "1"
    stages = int(header["SOAK_STAGES"] if soak and header["SOAK_STAGES"] else header["STAGES"])
    timeout = int(header["TIMEOUT"]) * FLAVOR_TIMEOUT_FACTOR.get(args.flavor, 1)
    # no5lvl: TCG's "-cpu max" offers 5-level paging, under which the
    # KASAN kernel reports a wild access in early boot; 4-level is what
    # the hosts this is for run anyway.
    # no_timer_check: on a busy host a TCG vCPU can miss the IO-APIC timer
    # check's short window, and the kernel panics ("IO-APIC + timer doesn't
    # work!") before it runs anything.
    cmdline = ["console=ttyS0", "kho=on", "no5lvl", "no_timer_check", "retain_initrd",
               "panic=-1",
               "loglevel=7", f"lu.test={name}", "lu.stage=1",
               f"lu.stages={stages}", f"lu.cpus={GUEST_CPUS}"]
    if args.flavor == "debug":
        # KHO sizes its scratch areas at 200% of early memblock use, which
        # KASAN's shadow makes too large to reserve in a 2 GiB guest; fixed
        # sizes (lowmem, global, per node) that hold a KASAN kernel's boot.
        cmdline += ["lu.kmemleak=1", "panic_on_warn=1", "kho_scratch=32M,448M,64M"]
    if args.flavor == "upstream":
        # The in-kernel LUO registers /dev/liveupdate only when asked to.
        cmdline.append("liveupdate=on")
    if header["GUEST"] == "debian":
        # Fail rather than wait for a unit that never comes; no delay of
        # the shutdown that precedes a kexec.
        cmdline += ["systemd.default_timeout_start_sec=120", "systemd.minimum_uptime_sec=0"]
    if header["CMDLINE"]:
        cmdline.append(header["CMDLINE"])

    run = Run(name, stages)
    log_path = os.path.join(args.log_dir, args.flavor, name + ".log")
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    deadline = time.monotonic() + timeout
    cmd = qemu_command(args, initrd, " ".join(cmdline))
    with open(log_path, "w") as log:
        log.write("# " + " ".join(cmd) + "\n")
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
        try:
            for line in serial_lines(proc, lambda: deadline):
                if line is None:
                    stage = run.booted[-1] if run.booted else 1
                    run.fail(f"{name}: stage {stage} timed out after {timeout} s")
                    break
                log.write(line + "\n")
                log.flush()
                if args.verbose:
                    print(line, file=sys.stderr)
                if scan_line(run, line):
                    deadline = time.monotonic() + timeout
        finally:
            proc.kill()
            status = proc.wait()

    if run.reports > MAX_KERNEL_REPORTS:
        run.fail(f"{run.reports - MAX_KERNEL_REPORTS} more kernel report lines")
    if not run.done and status == 0:
        run.fail("guest stopped without LU-DONE")
    if status not in (0, -9):
        run.fail(f"qemu exited with status {status}")
    for stage in range(1, stages + 1):
        if stage not in run.booted:
            run.fail(f"stage {stage} never ran")
    if run.booted and run.booted != list(range(1, len(run.booted) + 1)):
        run.fail(f"stages booted out of order: {run.booted}")
    if not run.results:
        run.fail("the test reported no results")

    run.log = log_path
    if not run.counts()[1]:
        os.unlink(log_path)
    return run


def print_subtest(number, label, run, seconds):
    print(f"# Subtest: {label}")
    for line in run.lines:
        print("    " + line)
    print(f"    1..{len(run.results)}")
    passed, failed, skipped = run.counts()
    print(f"{'not ok' if failed else 'ok'} {number} - {label}")
    print(f"# {label}: {seconds:.1f} s")
    if failed and run.log:
        print(f"# serial log kept in {os.path.relpath(run.log)}")
    print(f"RESULT {label} passed={passed} failed={failed} skipped={skipped}")
    return failed == 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outdir", required=True)
    parser.add_argument("--flavor", required=True)
    parser.add_argument("--test", action="append", required=True)
    parser.add_argument("--log-dir", default=os.path.join(ROOT, "build", "logs"))
    parser.add_argument("--kvm", action="store_true",
                        default=os.environ.get("LU_QEMU_KVM") == "1")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="copy the serial console to stderr")
    # Each guest runs one TCG vCPU thread, so one test per host core keeps
    # every core busy; results are still printed in the tests' order.
    parser.add_argument("-j", "--jobs", type=int,
                        default=int(os.environ.get("LU_JOBS", os.cpu_count() or 1)),
                        help="guests run at once (default: $LU_JOBS or the number of CPUs)")
    args = parser.parse_args()

    # A test is written for the flavors its header names; on any other it
    # is not a test at all (not a skip), e.g. the module's own tests on the
    # in-kernel LUO.
    tests = [(path, read_header(path)) for path in args.test]
    # SOAK_FLAVORS: flavors that run the test only in make soak
    # (LU_SOAK=1), where a full pass is too long for make test.
    def planned(header):
        flavors = header["FLAVORS"].split()
        if os.environ.get("LU_SOAK") == "1":
            flavors += header["SOAK_FLAVORS"].split()
        return args.flavor in flavors

    others = [test_name(p) for p, h in tests if not planned(h)]
    tests = [(p, h) for p, h in tests if planned(h)]
    if others:
        print(f"# not written for flavor {args.flavor}: {' '.join(others)}")
    print(f"1..{len(tests)}", flush=True)
    if not tests:
        return 0
    # A guest whose initramfs cannot be built fails its own tests, not the others.
    initrds = {}
    for guest in sorted({h["GUEST"] for _, h in tests}):
        if guest not in GUESTS:
            print(f"Bail out! unknown GUEST: {guest}", flush=True)
            return 1
        try:
            initrds[guest] = build_initramfs(args.outdir, args.flavor, guest)
        except subprocess.CalledProcessError:
            initrds[guest] = None

    def timed(path, header):
        start = time.monotonic()
        initrd = initrds[header["GUEST"]]
        if initrd is None:
            run = Run(test_name(path), 0)
            run.fail(f"cannot build the {header['GUEST']} guest's initramfs")
        else:
            run = run_test(args, initrd, path, header)
        return run, time.monotonic() - start

    all_passed = True
    with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as pool:
        # The longest first (TIMEOUT is the best guess at length), so that
        # one slow test does not run alone at the end.
        by_length = sorted(range(len(tests)), key=lambda i: -int(tests[i][1]["TIMEOUT"]))
        futures = [None] * len(tests)
        for i in by_length:
            futures[i] = pool.submit(timed, *tests[i])
        for number, ((path, _), future) in enumerate(zip(tests, futures), 1):
            run, seconds = future.result()
            label = f"{args.flavor}/{test_name(path)}"
            all_passed &= print_subtest(number, label, run, seconds)
            sys.stdout.flush()
    return 0 if all_passed else 1


if __name__ == "__main__":
    sys.exit(main())
