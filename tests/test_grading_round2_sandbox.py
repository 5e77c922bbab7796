"""The sandbox against a determined class, round 2 (issue 24: findings 1, 11, 14, 15, 17).

Shown here, as root and as an ordinary user (``nobody``, through ``setpriv`` in a private mount
namespace where the root-only Python installation is reachable):
- nothing of the grader's environment or processes is visible inside: ``/proc`` holds only the
  box's own two processes, whose environments and command lines carry no secret and no host path;
- every writable place (``/``, ``/tmp``, ``/dev``, ``/dev/shm``, ``/run``, ``/var/tmp``, home,
  working directory) is read-only or capped at the file-size limit, and shared memory outside the
  file systems (memfd, System V) is refused;
- the limits (memory, CPU, file size, open files, processes) are the same for both, and a user's
  own processes outside do not count against the box's process limit;
- two gradings at once with different ``TMPDIR`` never claim the same sandbox uid;
- a notebook that sleeps and restarts its process is cut at its wall-clock cap, keeping the points
  earned before.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest
import test_grading_hostile as hostile
from test_grading_hostile import HOMEWORK, Class, reference, run_hw, sandbox

SECRET = "secret-4711"
UID_BASE = 63700  # this module's sandbox uids (other modules use other ranges)
NOBODY = 65534
course = hostile.course  # the fixture: a copy of homework/ to grade in

if sandbox.isolation() == "none":
    if os.environ.get("CNN_REQUIRE_SANDBOX"):
        pytest.fail("bubblewrap (bwrap) is missing but CNN_REQUIRE_SANDBOX is set", pytrace=False)
    pytestmark = pytest.mark.skip(reason="bubblewrap (bwrap) is not installed: grading has no sandbox here")
elif os.geteuid() != 0:
    pytestmark = pytest.mark.skip(reason="needs root: it grades as root and, through setpriv, as an ordinary user")

# Runs one cell in a sandbox and prints what the cell printed. argv: homework folder, grading files,
# number of other processes the grading user runs meanwhile. The cell's code comes on stdin.
IN_A_SANDBOX = """
import json, subprocess, sys
sys.path.insert(0, sys.argv[1])
from grading import sandbox
crowd = [subprocess.Popen(["sleep", "120"]) for _ in range(int(sys.argv[3]))]
try:
    with sandbox.Sandbox(sys.argv[2]) as box:
        box.start()
        reply = box.request({"op": "run", "cell": "probe", "code": sys.stdin.read()}, 120)
finally:
    for p in crowd:
        p.kill()
        p.wait()
print(json.dumps({"output": reply.get("output"), "error": reply.get("error")}))
"""


def as_ordinary_user(argv: list[str]) -> list[str]:
    """``argv`` run as ``nobody``. Where the Python installation is under a folder only root may
    enter (``/root/.pyenv`` here), a private mount namespace puts it on a tmpfs anyone may enter,
    as an ordinary user's own Python would be."""
    prefix = Path(os.path.realpath(sys.base_prefix))
    blocked = next((p for p in reversed(prefix.parents) if not os.stat(p).st_mode & stat.S_IXOTH), None)
    drop = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--"]
    if blocked is None:
        return drop + argv
    script = (
        'd=$(mktemp -d); mount --bind "$1" "$d"; mount -t tmpfs -o mode=755 tmpfs "$2"; mkdir -p "$1"\n'
        'mount --move "$d" "$1"; rmdir "$d"; shift 2; exec "$@"'
    )
    private = ["unshare", "--mount", "--propagation", "private", "--", "sh", "-e", "-c", script, "sh"]
    return [*private, str(prefix), str(blocked), *drop, *argv]


@pytest.fixture(scope="module")
def files():
    """The sandbox's grading files for hw2, where an ordinary user can read them."""
    base = Path(tempfile.mkdtemp(prefix="round2-sandbox-"))
    base.chmod(0o755)
    yield reference.build("hw2_conv", ["data", "gradcheck", "shapes"], base / "files")
    shutil.rmtree(base)


@pytest.fixture(scope="module", params=["root", "user"])
def who(request) -> str:
    if request.param == "user":
        probe = subprocess.run(
            as_ordinary_user(["bwrap", "--unshare-all", "--ro-bind", "/", "/", "true"]), capture_output=True, text=True
        )
        if probe.returncode != 0:
            pytest.skip(f"an ordinary user cannot start bubblewrap here (no user namespaces?): {probe.stderr.strip()}")
    return request.param


def run_in_sandbox(who: str, files: Path, code: str, crowd: int = 0) -> str:
    """What ``code`` printed in a sandbox started by root or by an ordinary user, with the grader's
    environment full of secrets."""
    argv = [sys.executable, "-c", IN_A_SANDBOX, str(HOMEWORK), str(files), str(crowd)]
    env = dict(os.environ, CANVAS_API_TOKEN=f"canvas-{SECRET}", GITHUB_TOKEN=f"gh-{SECRET}", CNN_GRADING_UID_BASE=str(UID_BASE))
    proc = subprocess.run(
        argv if who == "root" else as_ordinary_user(argv),
        input=code,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd="/",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    reply = json.loads(proc.stdout.splitlines()[-1])
    assert reply["error"] is None, reply
    return reply["output"]


# ---------------------------------------------------------------- finding 1: /proc shows nothing of the grader

PROC = """
import glob, json
seen = {}
for d in glob.glob("/proc/[0-9]*"):
    seen[d[6:]] = {}
    for what in ("environ", "cmdline"):
        try:
            seen[d[6:]][what] = open(d + "/" + what, "rb").read().decode(errors="replace").split("\\0")
        except OSError as err:
            seen[d[6:]][what] = [f"unreadable: {err}"]
print(json.dumps(seen))
"""


def test_the_box_shows_no_environment_or_process_of_the_grader(who, files):
    seen = json.loads(run_in_sandbox(who, files, PROC))
    assert SECRET not in json.dumps(seen), seen
    assert sorted(seen) == ["1", "2"], f"processes visible in the sandbox: {seen}"
    allowed = {*sandbox._env(), "GRADING_OWN_PIDS", "PWD"}
    for pid, entry in seen.items():
        names = {item.split("=", 1)[0] for item in entry["environ"] if item}
        assert names <= allowed, f"pid {pid} has the grader's {sorted(names - allowed)}"
        command = " ".join(entry["cmdline"])
        assert str(files) not in command and "cnn-grading-" not in command, f"pid {pid} shows host paths: {command}"


# ---------------------------------------------------------------- finding 15: every writable place is capped

FILL = """
import json, os, sys
chunk = b"x" * (4 << 20)
places = ["/", "/tmp", "/dev", "/dev/shm", "/run", "/var/tmp", "/home", "/grading", sys.prefix, os.getcwd(),
          os.path.expanduser("~")]
found = {}
for place in places:
    written, error = 0, None
    try:
        os.makedirs(place, exist_ok=True)
        for i in range(20):  # 80 MiB in two files of 40: each under the file-size limit, together over the cap
            with open(os.path.join(place, f"fill{i % 2}"), "ab") as f:
                f.write(chunk)
            written += len(chunk)
    except OSError as err:
        error = err.strerror
    for i in range(2):
        try:
            os.remove(os.path.join(place, f"fill{i}"))
        except OSError:
            pass
    found[place] = [written, error]
print(json.dumps(found))
"""


def test_every_writable_place_is_read_only_or_capped(who, files):
    found = json.loads(run_in_sandbox(who, files, FILL))
    cap = sandbox.Limits().file_size
    assert len(found) >= 9, found
    for place, (written, error) in found.items():
        assert error is not None and written <= cap, f"{place}: {written >> 20} MiB written ({error})"
    assert found["/tmp"][0] > 0 and found["/dev/shm"][0] > 0  # the two scratch places work, up to the cap


SHARED_MEMORY = """
import ctypes, json, os, subprocess
found = {}
nested = subprocess.run(["unshare", "--user", "--map-root-user", "true"], capture_output=True, text=True)
found["user namespace"] = "allowed" if nested.returncode == 0 else nested.stderr.strip()
try:
    os.memfd_create("anonymous")
    found["memfd_create"] = "allowed"
except OSError as err:
    found["memfd_create"] = err.strerror
libc = ctypes.CDLL(None, use_errno=True)
found["shmget"] = "allowed" if libc.shmget(0, 1 << 20, 0o1600) >= 0 else os.strerror(ctypes.get_errno())
print(json.dumps(found))
"""


def test_shared_memory_that_no_file_system_caps_and_nested_namespaces_are_refused(who, files):
    """memfd files (64 MiB each, 256 open: 16 GiB) and System V segments (attached and detached
    in turn, under any address-space limit) would hold memory that no tmpfs size caps; a user
    namespace inside would be a root of its own to remount and mount from."""
    found = json.loads(run_in_sandbox(who, files, SHARED_MEMORY))
    assert found["memfd_create"] == found["shmget"] == "Operation not permitted", found
    if sandbox._bwrap_has("--disable-userns"):
        assert "unshare failed" in found["user namespace"], found


# ---------------------------------------------------------------- finding 17: limits the same as root and as a user

LIMITS = """
import json, os, resource, time
limits = {n: resource.getrlimit(getattr(resource, n)) for n in
          ("RLIMIT_AS", "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_NOFILE", "RLIMIT_NPROC", "RLIMIT_CORE")}
forks = 0
for _ in range(300):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(60)
        os._exit(0)
    forks += 1
print(json.dumps({"limits": limits, "forks": forks}))
"""


def test_limits_are_the_same_as_root_and_as_an_ordinary_user(files):
    """As a user the process limit counts only the box's processes (its own user namespace): 80
    other processes of that user change nothing, and 300 forks meet the same limit as root's."""
    seen = {"root": json.loads(run_in_sandbox("root", files, LIMITS))}
    user = as_ordinary_user(["bwrap", "--unshare-all", "--ro-bind", "/", "/", "true"])
    if subprocess.run(user, capture_output=True).returncode != 0:
        pytest.skip("an ordinary user cannot start bubblewrap here (no user namespaces?)")
    seen["user"] = json.loads(run_in_sandbox("user", files, LIMITS, crowd=80))
    lim = sandbox.Limits()
    expected = {
        "RLIMIT_AS": [lim.memory] * 2,
        "RLIMIT_CPU": [lim.cpu_seconds] * 2,
        "RLIMIT_FSIZE": [lim.file_size] * 2,
        "RLIMIT_NOFILE": [lim.open_files] * 2,
        "RLIMIT_NPROC": [lim.processes] * 2,
        "RLIMIT_CORE": [0, 0],
    }
    assert seen["root"]["limits"] == expected and seen["user"]["limits"] == expected, seen
    assert seen["root"]["forks"] == seen["user"]["forks"], seen
    assert lim.processes // 2 < seen["user"]["forks"] < lim.processes, seen


# ---------------------------------------------------------------- finding 11: uid claims whatever TMPDIR

CLAIM = """
import sys
sys.path.insert(0, sys.argv[1])
from grading import sandbox
print(sandbox.claim_uid(), flush=True)
sys.stdin.read()
"""


def claim(tmpdir: Path, base: int) -> subprocess.Popen:
    env = dict(os.environ, TMPDIR=str(tmpdir), CNN_GRADING_UID_BASE=str(base))
    return subprocess.Popen(
        [sys.executable, "-c", CLAIM, str(HOMEWORK)], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )


def test_two_gradings_with_different_tmpdirs_never_share_a_uid(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = claim(tmp_path / "a", UID_BASE + 100)
    try:
        uid_a = int(first.stdout.readline())
        second = claim(tmp_path / "b", UID_BASE + 100)
        try:
            uid_b = int(second.stdout.readline())
        finally:
            second.communicate("")
    finally:
        first.communicate("")
    assert uid_a != uid_b, f"both gradings claimed uid {uid_a}"


def test_a_uid_that_runs_a_process_is_not_claimed(tmp_path):
    """A sandbox process left by a grading that lost its lock keeps its uid from being reused."""
    base = UID_BASE + 200
    stray = subprocess.Popen(["setpriv", f"--reuid={base}", f"--regid={base}", "--clear-groups", "sleep", "60"])
    try:
        for _ in range(100):
            if sandbox.processes_of(base):
                break
            subprocess.run(["sleep", "0.05"])
        grading = claim(tmp_path, base)
        uid = int(grading.stdout.readline())
        grading.communicate("")
    finally:
        stray.kill()
        stray.wait()
    assert uid == base + 1


# ---------------------------------------------------------------- finding 14: a wall-clock cap per notebook

SLEEP = "import time\ntime.sleep(2.5)"
EXIT = "import os\nos._exit(1)"


def test_a_notebook_that_sleeps_and_restarts_is_cut_at_its_cap_keeping_earlier_points(course, tmp_path):
    """Six cells sleeping just under the cell timeout and six that end the process (each restart
    replays the sleeps) would take minutes; the cap stops it at 12 s, the public half of the forward
    check earned before stays (its hidden half would run after the last cell: no time was left),
    and the row and the feedback say why the rest scored 0. An honest student in the same batch is
    not touched."""
    cls = Class(course, "hw2_conv", tmp_path / "inbox")
    cls.student("honest")
    path = cls.student("sleeper")
    nb = nbformat.read(path, as_version=4)
    i = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "check_conv_forward")
    nb.cells[i + 1 : i + 1] = [nbformat.v4.new_code_cell(src) for _ in range(6) for src in (SLEEP, EXIT)]
    nbformat.write(nb, path)
    assert run_hw(course, "collect", "hw2_conv", str(tmp_path / "inbox")).returncode == 0
    proc = run_hw(course, "grade", "hw2_conv", "--timeout", "3", "--notebook-timeout", "12", "--quiet")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with (course / "grades" / "hw2_conv.csv").open() as f:
        rows = {r["student_id"]: r for r in csv.DictReader(f)}
    assert rows["honest"]["total"] == "10", rows["honest"]["problems"]
    sleeper = rows["sleeper"]
    assert (sleeper["check_conv_forward"], sleeper["total"]) == ("1.5", "1.5"), sleeper
    assert "used up its 12 s of grading time" in sleeper["problems"], sleeper["problems"]
    result = json.loads((course / "grades" / "hw2_conv" / "sleeper.json").read_text())
    assert result["seconds"] < 12 + 15, result["seconds"]  # the cap, and the time to stop and write up
    assert any("stopped after 12 s" in note for note in result["notes"]), result["notes"]
    page = (course / "feedback" / "hw2_conv" / "sleeper.html").read_text()
    assert "used up its 12 s of grading time" in page


# ---------------------------------------------------------------- the speed check's clock (CI failed on the wall clock)

# Defines functions in a sandbox, calls each and prints the CPU seconds the grader measured for the
# call from outside the box, and the wall seconds. argv: homework folder, grading files.
CPU_OF_CALLS = """
import json, sys
sys.path.insert(0, sys.argv[1])
from grading import sandbox
CELL = '''
import os, threading, time
def spin(seconds):
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass
def nap(seconds):
    time.sleep(seconds)
def in_a_thread(seconds):
    t = threading.Thread(target=spin, args=(seconds,))
    t.start()
    t.join()
def in_a_child(seconds):
    pid = os.fork()
    if pid == 0:
        spin(seconds)
        os._exit(0)
    os.waitpid(pid, 0)
def in_an_orphan(seconds):
    r, w = os.pipe()
    if os.fork() == 0:
        if os.fork() == 0:
            spin(seconds)
            os.write(w, b"x")
            os._exit(0)
        os._exit(0)
    os.read(r, 1)
'''
seen = {}
with sandbox.Sandbox(sys.argv[2]) as box:
    box.start()
    assert box.request({"op": "run", "cell": "defs", "code": CELL}, 60)["ok"]
    for name in ("spin", "nap", "in_a_thread", "in_a_child", "in_an_orphan"):
        reply = box.request({"op": "call", "name": name, "args": [0.3]}, 60)
        assert reply["ok"], reply
        seen[name] = (reply["cpu_seconds"], reply["wall_seconds"])
print(json.dumps(seen))
"""


def test_a_call_is_charged_the_cpu_time_of_every_process_and_thread_in_its_box(who, files):
    """The speed check's clock for the student's code: CPU time of the box, read from outside it.
    Work in a thread, a child or an orphan of the box counts; waiting does not, so neither does a
    classmate's busy box beside it."""
    argv = [sys.executable, "-c", CPU_OF_CALLS, str(HOMEWORK), str(files)]
    env = dict(os.environ, CNN_GRADING_UID_BASE=str(UID_BASE))
    proc = subprocess.run(
        argv if who == "root" else as_ordinary_user(argv), capture_output=True, text=True, env=env, timeout=300, cwd="/"
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    seen = json.loads(proc.stdout.splitlines()[-1])
    assert seen["nap"][0] < 0.05 and seen["nap"][1] >= 0.3, seen
    for name in ("spin", "in_a_thread", "in_a_child", "in_an_orphan"):
        cpu, _ = seen[name]
        assert 0.28 <= cpu < 1.0, (name, seen)  # children's time comes in clock ticks (10 ms)
