#!/usr/bin/env python3
"""MPICH's own test suite (test/mpi of the pinned mpich-testsuite.tar.gz) built with SwiftMPI's
`swiftmpicc` against SwiftMPI's `mpi.h` and run under `swiftmpirun` (issue #21).

    Tests/PeerSuites/mpich.py                      # build into .build/peer/mpich and run every directory
    Tests/PeerSuites/mpich.py pt2pt coll           # only these directories
    SWIFT_BIN=.build/release Tests/PeerSuites/mpich.py --timeout 60

Directories: basic init pt2pt coll comm group datatype topo attr errhan info (the issue's list), mpi_t
(the tool information interface, issue #24), part (partitioned communication), rma (one-sided
communication, issue #22) and io (MPI-IO, issue #23). basic
has no testlist in MPICH and is built but not run, as MPICH does. Each directory's `testlist.in` (or
`testlist`) gives the programs, rank counts, arguments, environment and time limits; lines that need
configure substitutions (`@...@`) are the optional features MPICH's configure would add and are not
run. A test passes as MPICH's `runtests` decides: exit status 0, a line " No Errors", no other output
(or, for resultTest=TestStatus/TestErrFatal, a non-zero status). Tests MPICH itself marks xfail
(known to fail or hang on MPICH) are not run, as MPICH's runtests does not run them by default;
--run-xfail runs them and reports them apart.

MPICH's configure is not run (it needs MPICH's autotools tree): this script writes the two small
configuration headers the sources include (`mpitestconf.h`, `dtpoolsconf.h`) from what this machine
and SwiftMPI provide, compiles the shared helpers (util/mtest*.c, util/dtypes.c, dtpools) once, then
each program with its own sources and flags from its directory's Makefile.am.

Known failures, each with its reason, are in Tests/PeerSuites/mpich-known-failures.txt; the exit
status is 1 when any other test fails (a regression) and 2 when the pinned archive is missing.
"""

import argparse
import concurrent.futures
import os
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DIRECTORIES = [
    "basic", "init", "pt2pt", "coll", "comm", "group", "datatype", "topo", "attr", "errhan", "info", "mpi_t", "part", "rma", "io", "session",
    "threads/pt2pt", "threads/comm", "threads/init", "threads/mpi_t", "threads/rma", "threads/part",
    "errors/attr", "errors/coll", "errors/comm", "errors/datatype", "errors/group", "errors/io", "errors/pt2pt", "errors/rma", "errors/session",
    "errors/topo", "ft",
]
KNOWN = os.path.join(ROOT, "Tests", "PeerSuites", "mpich-known-failures.txt")
# The testlists' mpiexecarg= flags of MPICH's Hydra, as swiftmpirun spells them: -disable-auto-cleanup
# keeps the other ranks running when one fails (ft/), which is swiftmpirun's recovery mode.
LAUNCHER_ARGS = {"-disable-auto-cleanup": "--enable-recovery"}
# Directories whose xfail marks are MPICH's own open tickets (its fault tolerance, ft/), not MPI's
# limits: their tests run and are judged as any other, so a failure there is a failure.
OWN_XFAIL_IGNORED = {"ft"}
# The machine's memory in GB, for the testlists' mem= (GB a test needs), as MPICH's runtests reads it.
MEMORY_GB = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9
# Programs and helpers older than SwiftMPI's mpi.h, or than this script's configuration, are rebuilt.
HEADER_TIME = max(os.path.getmtime(os.path.join(ROOT, "CInterface", "CMPI", "include", "mpi.h")), os.path.getmtime(__file__))

# What MPICH's configure would find on Debian 12 with SwiftMPI's mpi.h (an MPI-4.1 header with
# long double, long long and the MPI-2 combiners; no Fortran, no GPU; POSIX threads in threads/).
MPITESTCONF = """/* Written by Tests/PeerSuites/mpich.py in place of MPICH's configure. */
#define HAVE_STDARG_H 1
#define HAVE_STRING_H 1
#define HAVE_UNISTD_H 1
#define HAVE_SYS_TIME_H 1
#define HAVE_SYS_RESOURCE_H 1
#define HAVE_GETRUSAGE 1
#define HAVE_LONG_DOUBLE 1
#define HAVE_LONG_LONG 1
#define HAVE_LONG_LONG_INT 1
#define HAVE__BOOL 1
#define HAVE_MPI_WIN_CREATE 1
#define HAVE_MPI_INIT_THREAD 1
#define HAVE_MPI_TYPE_CREATE_STRUCT 1
#define HAVE_MPI2_COMBINERS 1
#define HAVE_MPI_IO 1
#define HAVE_MPI_INTEGER16 1 /* configure's check only compiles `MPI_Datatype t = MPI_INTEGER16;` */
#define HAVE_PTHREAD_BARRIER_INIT 1
#ifndef THREAD_PACKAGE_NAME /* the threads directories' programs are built with POSIX threads (2) */
#define THREAD_PACKAGE_NAME 1 /* mpithreadtest.h's THREAD_PACKAGE_NONE */
#endif
"""
DTPOOLSCONF = """/* Written by Tests/PeerSuites/mpich.py in place of dtpools' configure. */
#define HAVE_STDLIB_H 1
#define HAVE_STRING_H 1
#define HAVE_LIMITS_H 1
#define HAVE_STDINT_H 1
#define HAVE_SYS_TYPES_H 1
#define HAVE_STRDUP 1
#define HAVE_MEMSET 1
"""


def log(message):
    print(message, flush=True)


def find_archive():
    for candidate in [os.environ.get("PEER_SUITES", ""), os.path.join(ROOT, "..", "shared", "peer-suites"), "/work/shared/peer-suites"]:
        path = os.path.join(candidate, "mpich-testsuite.tar.gz")
        if candidate and os.path.isfile(path):
            return path
    return None


def makefile_variables(path):
    """The `name = value` assignments of a Makefile.am, continuation lines joined."""
    variables = {}
    if not os.path.isfile(path):
        return variables
    text = open(path).read().replace("\\\n", " ")
    for line in text.splitlines():
        match = re.match(r"^([A-Za-z0-9_]+)\s*\+?=\s*(.*)$", line)
        if match:
            name, value = match.groups()
            variables[name] = (variables.get(name, "") + " " + value).strip() if "+=" in line else value.strip()
    return variables


class Test:
    def __init__(self, directory, program, ranks, options, line):
        self.directory, self.program, self.ranks, self.line = directory, program, ranks, line
        self.args = [value for key, value in options if key == "arg"]
        self.env = dict(value.split("=", 1) for key, value in options if key == "env")
        self.launcher_args = [LAUNCHER_ARGS.get(value, value) for key, value in options if key == "mpiexecarg"]  # (an unknown one fails loudly)
        settings = {key: value for key, value in options if key not in ("arg", "env", "mpiexecarg")}
        self.time_limit = int(settings["timeLimit"]) if "timeLimit" in settings else None
        self.xfail = None if directory in OWN_XFAIL_IGNORED else settings.get("xfail")
        self.result_test = settings.get("resultTest")
        self.memory = float(settings["mem"]) if "mem" in settings else 0.0  # GB the test needs

    @property
    def name(self):
        return " ".join([f"{self.directory}/{self.program}", str(self.ranks)] + self.args)


def parse_testlist(directory, source):
    for candidate in ("testlist.in", "testlist"):
        path = os.path.join(source, directory, candidate)
        if os.path.isfile(path):
            break
    else:
        return []
    tests = []
    for raw in open(path):
        line = raw.split("#", 1)[0].strip()
        if not line or "@" in line:
            continue
        words = shlex.split(line)
        if len(words) < 2 or not words[1].isdigit():
            continue
        options = [tuple(word.split("=", 1)) for word in words[2:] if "=" in word]
        tests.append(Test(directory, words[0], int(words[1]), options, line))
    return tests


def prepare(build, archive):
    source = os.path.join(build, "test", "mpi")
    if not os.path.isdir(source):
        log(f"extracting {archive} into {build}")
        shutil.rmtree(build, ignore_errors=True)
        os.makedirs(build)
        with tarfile.open(archive) as tar:
            tar.extractall(build, filter="data")
        extracted = os.path.join(build, "mpich-testsuite", "test")
        os.rename(extracted, os.path.join(build, "test"))
    with open(os.path.join(source, "include", "mpitestconf.h"), "w") as file:
        file.write(MPITESTCONF)
    with open(os.path.join(source, "dtpools", "dtpoolsconf.h"), "w") as file:
        file.write(DTPOOLSCONF)
    with open(os.path.join(source, "include", "mtest_mpix.h"), "w") as file:
        file.write("/* Empty, as MPICH's autogen.sh makes it outside MPICH: no MPIX_ renames. */\n")
    return source


def compile_command(compiler, source, output, sources, flags, objects=()):
    includes = ["-I" + os.path.join(source, "include"), "-I" + os.path.join(source, "dtpools", "include")]
    return [compiler, "-O1", "-w"] + includes + flags + sources + list(objects) + ["-o", output, "-lm"]


def thread_flags(directory):
    """The threads directories' programs use POSIX threads (Makefile_threads.mtest's setting)."""
    return ["-DTHREAD_PACKAGE_NAME=2", "-DMTEST_USE_THREAD", "-pthread"] if directory.split("/")[0] == "threads" else []


def build_helpers(compiler, source, out, threads):
    """MPICH's util/ helpers in one archive: with mtest_single.c, or for the threads directories
    mtest_thread.c built for POSIX threads."""
    helpers = [os.path.join(source, "util", name) for name in ("mtest.c", "mtest_common.c", "mtest_thread.c" if threads else "mtest_single.c", "dtypes.c", "run_mpitests.c")]
    helpers += sorted(os.path.join(source, "dtpools", "src", name) for name in os.listdir(os.path.join(source, "dtpools", "src")) if name.endswith(".c"))
    objects = []
    directory = os.path.join(out, "threads-helpers") if threads else out
    os.makedirs(directory, exist_ok=True)
    for path in helpers:
        obj = os.path.join(directory, os.path.basename(path)[:-2] + ".o")
        if not os.path.exists(obj) or os.path.getmtime(obj) < max(os.path.getmtime(path), HEADER_TIME):
            command = compile_command(compiler, source, obj, ["-c", path], ["-I" + os.path.join(source, "util")] + thread_flags("threads" if threads else ""))
            result = subprocess.run(command, capture_output=True, text=True)
            if result.returncode != 0:
                sys.exit(f"mpich.py: building the helper {path} failed:\n{result.stderr}")
        objects.append(obj)
    archive = os.path.join(directory, "libmtest.a")  # an archive: the linker takes run_mpitests.o's main only when needed
    subprocess.run(["ar", "rcs", archive] + objects, check=True)
    return archive


def build_program(compiler, source, out, directory, program, helpers):
    """Compiles one program; returns (path, None) or (None, the compiler's first error lines). A
    program without main() defines run() (MPICH's multi-test form); util/run_mpitests.c's main,
    in the helpers' archive, calls it."""
    variables = makefile_variables(os.path.join(source, directory, "Makefile.am"))
    key = re.sub(r"[^A-Za-z0-9_]", "_", program)
    sources = variables.get(f"{key}_SOURCES", f"{program}.c").split()
    flags = [flag for flag in variables.get(f"{key}_CPPFLAGS", "").split() if not flag.startswith("$(")]
    paths = [os.path.join(source, directory, name) for name in sources if name.endswith(".c")]
    target = os.path.join(out, directory, program)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    if os.path.exists(target) and all(os.path.getmtime(target) >= max(os.path.getmtime(p), HEADER_TIME) for p in paths):
        return target, None
    missing = [p for p in paths if not os.path.exists(p)]
    if missing:
        return None, f"no source {missing[0]}"
    flags += thread_flags(directory)
    helper_archive = helpers["threads" if thread_flags(directory) else "single"]
    command = compile_command(compiler, source, target, paths, flags + ["-I" + os.path.join(source, directory)], [helper_archive])
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if "error" in line or "undefined reference" in line]
        return None, "; ".join(lines[:3]) or result.stderr.strip()[-300:]
    return target, None


def judge(test, status, output):
    """MPICH runtests' verdict: (passed, reason)."""
    lines = output.splitlines()
    no_errors = any(re.match(r"^\s*No [Ee]rrors\s*$", line) for line in lines)
    skipped = any(re.match(r"^\s*Test Skipped\s*$", line) for line in lines)
    stray = [
        line for line in lines
        if not re.match(r"^\s*No [Ee]rrors\s*$", line) and not re.match(r"^\s*Test Skipped\s*$", line)
        and not re.match(r"^(MPICH: |WARNING: |(Abort.*)?application called MPI_Abort)", line)
        and not line.startswith("swiftmpirun: ")  # the launcher's reports, as runtests takes Hydra's `MPICH: ` lines
    ]
    if test.result_test in ("TestStatus", "TestErrFatal"):
        return (status != 0, "exited with status 0 but was expected to fail" if status == 0 else "")
    if test.result_test == "TestStatusNoErrors":  # a rank fails on purpose: the job's status is not 0
        if status == 124:
            return False, "timed out"
        if not no_errors:
            return False, "no 'No Errors' line"
        if stray:
            return False, "unexpected output"
        return (status != 0, "exited with status 0, though a rank failed" if status == 0 else "")
    if status == 124:
        return False, "timed out"
    if skipped:
        return True, "skipped by the test itself"
    if status != 0:
        return False, f"exit status {status}"
    if not no_errors:
        return False, "no 'No Errors' line"
    if stray and test.result_test != "TestAllowWarnings":
        return False, "unexpected output"
    return True, ""


def run_test(launcher, test, path, default_timeout, test_directory):
    """Runs one test from its source directory (where its data files are); (status, output, seconds)."""
    limit = min(test.time_limit or default_timeout, 2 * default_timeout)
    env = dict(os.environ, **test.env)
    command = ["timeout", "-k", "5", str(limit), launcher, "--oversubscribe"] + test.launcher_args + ["-n", str(test.ranks), path] + test.args
    started = time.monotonic()
    result = subprocess.run(command, cwd=test_directory, env=env, capture_output=True, text=True, errors="replace")
    seconds = time.monotonic() - started
    # timeout's status is 124, or 137 when its SIGTERM was not enough (not a rank's own death).
    return 124 if seconds >= limit else result.returncode, result.stdout + result.stderr, seconds


def known_failures():
    """{test or program name: (reason, hangs)} from the known-failures list."""
    known = {}
    if os.path.isfile(KNOWN):
        for raw in open(KNOWN):
            line = raw.strip()
            if line and not line.startswith("#"):
                fields = [field.strip() for field in line.split("|")]
                hangs = len(fields) > 2 and fields[1] == "hang"
                known[fields[0]] = (fields[-1], hangs)
    return known


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("directories", nargs="*", default=DIRECTORIES)
    parser.add_argument("--timeout", type=int, default=60, help="seconds per test without a timeLimit (default 60)")
    parser.add_argument("--only", help="run only the tests whose name contains this")
    parser.add_argument("--build-only", action="store_true", help="build the programs, list those that do not build, run nothing")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="compilers to run at once")
    parser.add_argument("--run-xfail", action="store_true", help="also run the tests MPICH marks xfail")
    parser.add_argument("--results", help="write one line per test (verdict, name, seconds, reason) here")
    options = parser.parse_args()

    archive = find_archive()
    if not archive:
        print("mpich.py: mpich-testsuite.tar.gz not found (set PEER_SUITES to the peer-suites directory)", file=sys.stderr)
        return 2
    swift_bin = os.path.abspath(os.path.join(ROOT, os.environ.get("SWIFT_BIN", ".build/debug")))
    launcher = os.path.join(swift_bin, "swiftmpirun")
    compiler = os.path.join(ROOT, "CInterface", "swiftmpicc")
    if not os.access(launcher, os.X_OK) or not os.path.exists(os.path.join(swift_bin, "libmpi.so")):
        print(f"mpich.py: {swift_bin} has no swiftmpirun or libmpi.so (swift build first)", file=sys.stderr)
        return 2
    os.environ["SWIFTMPI_BUILD_DIR"] = swift_bin
    build = os.path.join(ROOT, ".build", "peer", "mpich")
    source = prepare(build, archive)
    out = os.path.join(build, "bin")
    os.makedirs(out, exist_ok=True)
    helpers = {"single": build_helpers(compiler, source, out, threads=False)}
    if any(directory.split("/")[0] == "threads" for directory in options.directories):
        helpers["threads"] = build_helpers(compiler, source, out, threads=True)

    tests = [test for directory in options.directories for test in parse_testlist(directory, source)]
    if options.only:
        tests = [test for test in tests if options.only in test.name]
    programs = sorted({(test.directory, test.program) for test in tests})
    if "basic" in options.directories:  # built, as MPICH builds it, though no testlist runs it
        programs += [("basic", name) for name in makefile_variables(os.path.join(source, "basic", "Makefile.am")).get("noinst_PROGRAMS", "").split()]
    log(f"building {len(programs)} programs with {compiler}")
    built, unbuilt = {}, {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=options.jobs) as pool:
        futures = {pool.submit(build_program, compiler, source, out, d, p, helpers): (d, p) for d, p in programs}
        for future in concurrent.futures.as_completed(futures):
            path, error = future.result()
            (built if path else unbuilt)[futures[future]] = path or error

    if options.build_only:
        for (directory, program), error in sorted(unbuilt.items()):
            log(f"does not build: {directory}/{program}: {error}")
        log(f"{len(built)} programs built, {len(unbuilt)} do not build")
        return 1 if unbuilt else 0

    known = known_failures()
    counts = {"pass": 0, "fail": 0, "known": 0, "xfail": 0, "unexpected pass": 0, "not run": 0}
    regressions, records = [], []
    for test in tests:
        key = (test.directory, test.program)
        if test.xfail and not options.run_xfail:
            counts["not run"] += 1
            records.append(f"not run\t{test.name}\t0.0\tMPICH marks it xfail={test.xfail}")
            continue
        listed = known.get(test.name) or known.get(f"{test.directory}/{test.program}")
        if listed and listed[1]:
            counts["known"] += 1
            records.append(f"known\t{test.name}\t0.0\tnot run (it would run into the time limit): {listed[0]}")
            log(f"KNOWN {test.name}: not run, it would run into the time limit: {listed[0]}")
            continue
        if test.memory > MEMORY_GB:  # runtests' rule: a test that needs more memory than the machine has is not run
            counts["not run"] += 1
            records.append(f"not run\t{test.name}\t0.0\tneeds {test.memory} GB, this machine has {MEMORY_GB:.1f}")
            log(f"  NOT RUN {test.name}: needs {test.memory} GB of memory, this machine has {MEMORY_GB:.1f}")
            continue
        if key in unbuilt:
            passed, reason, seconds, output = False, "does not build: " + unbuilt[key], 0.0, ""
        else:
            status, output, seconds = run_test(launcher, test, built[key], options.timeout, os.path.join(source, test.directory))
            passed, reason = judge(test, status, output)
        if passed:
            verdict = "unexpected pass" if test.xfail else "pass"
            if listed:
                reason = "passes, though Tests/PeerSuites/mpich-known-failures.txt lists it"
        elif test.xfail:
            verdict, reason = "xfail", f"{reason} (MPICH marks it xfail={test.xfail})"
        elif listed:
            verdict = "known"
            reason = f"{reason}: {listed[0]}"
        else:
            verdict = "fail"
            regressions.append(test.name)
        counts[verdict] += 1
        records.append(f"{verdict}\t{test.name}\t{seconds:.1f}\t{reason}")
        log(f"{verdict.upper():>5} {test.name} ({seconds:.1f} s){': ' + reason if reason else ''}")
        if verdict == "fail" and output:
            for line in output.strip().splitlines()[-6:]:
                log(f"        {line[:200]}")
    if options.results:
        with open(options.results, "w") as file:
            file.write("\n".join(records) + "\n")
    for directory in options.directories:
        mine = [r.split("\t") for r in records if r.split("\t")[1].startswith(directory + "/")]
        if mine:
            passed = sum(1 for r in mine if r[0] in ("pass", "unexpected pass"))
            log(f"  {directory:<9} {len(mine):>4} tests {passed:>4} passed {sum(1 for r in mine if r[0] == 'known'):>3} known failures {sum(1 for r in mine if r[0] == 'fail'):>3} other failures")
    total = len(tests) - counts["not run"]
    passing = counts["pass"] + counts["unexpected pass"]
    log(
        f"MPICH test suite on SwiftMPI ({', '.join(options.directories)}): {total} tests, {passing} passed "
        f"({100.0 * passing / max(total, 1):.1f} %), {counts['known']} known failures "
        f"(Tests/PeerSuites/mpich-known-failures.txt), {counts['fail']} other failures, "
        f"{counts['xfail']} failed that MPICH marks xfail, {counts['not run']} not run (MPICH marks them xfail, or they need more memory than this machine has)"
    )
    if regressions:
        log("failures not in the known list: " + ", ".join(regressions))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
