"""One student's code in a box: bubblewrap, its own user, no network, limits, nothing left behind.

On Linux with ``bwrap`` (Debian's ``bubblewrap``) a sandbox sees only the Python installation
(read-only), the grading files (read-only: the runner and the student-side ``cnn_core``); all else
is read-only but a small private ``/tmp`` and ``/dev/shm``. It has no network, its own PID and user
namespaces, a clean environment from its first process on (bwrap and what starts it get only the
sandbox's variables, and bwrap reads its options from a file, so ``/proc`` inside shows nothing of
the grader), and limits on memory, CPU time, file size, open files and processes, the same whether
the grader runs as root or not. Run as root, each grading process claims its own unused uid, so a
fork bomb in one sandbox cannot starve another and every process of that uid is killed at the end.
Without ``bwrap`` the code runs as a plain subprocess with the same resource limits and **no
isolation** (``ISOLATION`` says which; the grader warns loudly).
"""

from __future__ import annotations

import errno
import functools
import os
import platform
import queue
import re
import resource
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import wire
from .text import clean

GRADING_DIR = "/grading"  # where the runner and the student-side packages appear inside
UID_BASE = int(os.environ.get("CNN_GRADING_UID_BASE", "61000"))  # first of the sandbox uids (unused ones)
UID_COUNT = 256  # sandbox uids tried: one per grading process, claimed with a lock file
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")  # units of /proc/PID/stat's times
STDERR_CAP = 64_000  # bytes of raw stderr kept
START_SECONDS = 60.0  # for a sandbox's Python to start and say it is ready


@dataclass(frozen=True)
class Limits:
    memory: int = 3 << 30  # bytes of address space
    cpu_seconds: int = 900  # CPU time of the whole session (the wall-clock timeouts come first)
    file_size: int = 64 << 20  # bytes one file may grow to (and the size of /tmp)
    processes: int = 64  # processes and threads of the sandbox (set by the runner: see runner._limit_processes)
    open_files: int = 256


class SandboxError(RuntimeError):
    """The sandbox could not run a request: it timed out, died, or broke the protocol."""


class SandboxTimeout(SandboxError):
    """``functions``: the student's functions that were running when time ran out (innermost last)."""

    def __init__(self, message: str, functions: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.functions = list(functions)


class SandboxDied(SandboxError):
    pass


def isolation() -> str:
    """'bubblewrap' where every sandbox is isolated, else 'none'."""
    return "bubblewrap" if sys.platform.startswith("linux") and shutil.which("bwrap") else "none"


def _bind_sources() -> list[str]:
    """Host folders the sandbox needs read-only: the Python installation and the environment."""
    paths = {
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        sys.base_exec_prefix,
        str(Path(sys.executable).resolve().parent.parent),
    }
    paths = {os.path.realpath(p) for p in paths}
    keep = []
    for p in sorted(paths, key=len):
        if p in ("/", "/usr") or p.startswith("/usr/") or any(p.startswith(k + "/") for k in keep):
            continue
        keep.append(p)
    return keep


def _env() -> dict[str, str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": "/tmp",
        "USER": "student",
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": "/tmp/.mpl",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONPATH": f"{GRADING_DIR}/lib",
    }
    for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):  # some CPUs need these (see the env notes)
        if key in os.environ:
            env[key] = os.environ[key]
    return env


class Sandbox:
    """A running runner.py in a sandbox; ``request`` sends one message and waits for the reply."""

    def __init__(self, grading_files: Path, *, limits: Limits = Limits()) -> None:
        self.grading_files = Path(grading_files)
        self.limits = limits
        self.proc: subprocess.Popen | None = None
        self.isolation = isolation()
        self.uid = claim_uid() if os.geteuid() == 0 and self.isolation != "none" else None
        self._replies: queue.Queue = queue.Queue()
        self._stderr = bytearray()
        self._stage: tempfile.TemporaryDirectory | None = None
        self._clocks: tuple[int, list[int]] | None = None  # host pids: the runner, and the box's reapers

    # -------------------------------------------------------------- life cycle

    def start(self, timeout: float = START_SECONDS) -> dict:
        self.close()
        _become_subreaper()
        where = self.grading_files if self.isolation == "none" else Path(GRADING_DIR)
        runner = [os.path.abspath(sys.executable), "-s", str(where / "runner.py")]
        if self.isolation != "none" and (self.uid is not None or _nproc_per_user_namespace()):
            runner += ["--processes", str(self.limits.processes)]  # counts the box's processes alone
        env = (
            _env()
            if self.isolation != "none"
            else {
                **_env(),
                "PYTHONPATH": str(self.grading_files / "lib"),
                "HOME": self._private_tmp(),
                "MPLCONFIGDIR": self._private_tmp() + "/.mpl",
            }
        )
        opened = []  # files bwrap reads: the seccomp filter, then its options (so the box's first process shows none)
        try:
            command = runner
            if self.isolation != "none":
                bpf = _seccomp_filter()
                if bpf is not None:
                    opened.append(self._stage_file("seccomp", bpf))
                options = self._box_options(opened[0].fileno() if opened else None)
                opened.append(self._stage_file("bwrap-args", b"".join(a.encode() + b"\0" for a in options)))
                command = self._command(opened[-1].fileno()) + ["--", *runner]
            self.proc = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,  # also for bwrap and what starts it: the sandbox's first process shows its environment
                pass_fds=[f.fileno() for f in opened],
                preexec_fn=self._limit,
                start_new_session=True,
                cwd=self._private_tmp() if self.isolation == "none" else "/",
            )
        finally:
            for f in opened:
                f.close()
        self._replies = queue.Queue()
        threading.Thread(target=self._read_replies, args=(self.proc,), daemon=True).start()
        threading.Thread(target=self._drain_stderr, args=(self.proc,), daemon=True).start()
        hello = wire.decode(*self._wait(timeout, "starting Python"), text=clean)
        if not isinstance(hello, dict) or not hello.get("ready"):
            raise SandboxDied(f"the sandbox did not start: {hello}")
        self._clocks = self._find_clocks(hello.get("pid"))
        return hello

    def _find_clocks(self, runner_inside: Any) -> tuple[int, list[int]] | None:
        """Host pids of the runner and of the processes that reap the box's ended ones (the runner,
        and the box's init: pid 1 inside), found by their pids inside (``NSpid``)."""
        if self.isolation == "none":
            return self.proc.pid, [self.proc.pid]
        table = _process_table()
        box = {self.proc.pid}
        while True:  # the box is every descendant of the process started here
            grown = box | {pid for pid, parent, _ in table if parent in box}
            if grown == box:
                break
            box = grown
        inside = {pid: nspid for pid, _, nspid in table if pid in box}
        runner = [pid for pid, ns in inside.items() if ns == str(runner_inside)]
        init = [pid for pid, ns in inside.items() if ns == "1"]
        if len(runner) != 1 or len(init) != 1:
            return None
        return runner[0], [runner[0], init[0]]

    def cpu_seconds(self) -> float | None:
        """CPU time the box has used so far: its runner (every thread, to the nanosecond) and every
        process that ended in it (their reapers' children's time, in clock ticks). Read from outside
        the box, so the student's code cannot change it, and other programs on the machine do not
        count. None when it cannot be read."""
        if self._clocks is None or not self.alive:
            return None
        runner, reapers = self._clocks
        try:
            seconds = time.clock_gettime(((~runner) << 3) | 2)  # the process's CPU clock (CPUCLOCK_SCHED)
            for pid in reapers:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                seconds += (int(fields[13]) + int(fields[14])) / CLOCK_TICKS  # cutime + cstime
        except (OSError, ValueError, IndexError):
            return None
        return seconds

    def close(self) -> None:
        """Kill the sandbox and everything it started."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if proc is not None:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            for stream in (proc.stdin, proc.stdout, proc.stderr):
                try:
                    stream.close()
                except Exception:  # noqa: BLE001
                    pass
        if self.uid is not None:
            kill_uid(self.uid)
        _reap_orphans()
        if self._stage is not None:
            self._stage.cleanup()
            self._stage = None

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stderr_text(self) -> str:
        text = bytes(self._stderr[:STDERR_CAP]).decode("utf-8", "replace")
        return text + ("\n… (more output not kept)" if len(self._stderr) > STDERR_CAP else "")

    # -------------------------------------------------------------- requests

    def request(self, message: dict, timeout: float, tagged: Callable[[dict], Any] | None = None) -> dict:
        """Send ``message``; return the reply, its tagged values built by ``tagged``.
        Raises SandboxTimeout or SandboxDied."""
        if not self.alive:
            raise SandboxDied("the sandbox is not running")
        tree, arrays = wire.encode({**message, "timeout": timeout})  # the runner's watchdog reports first
        done = threading.Event()
        failure: list[BaseException] = []

        def send() -> None:
            try:
                wire.write_message(self.proc.stdin, tree, arrays)
            except BaseException as err:  # noqa: BLE001
                failure.append(err)
            finally:
                done.set()

        start, cpu = time.monotonic(), self.cpu_seconds()
        threading.Thread(target=send, daemon=True).start()
        if not done.wait(timeout):
            self.close()
            raise SandboxTimeout(f"did not take the request within {timeout:g} s")
        if failure:
            code = self._exit_code()
            self.close()
            raise SandboxDied(f"the process had ended ({code})")
        tree, arrays = self._wait(max(0.1, timeout - (time.monotonic() - start)), message.get("op", "request"))
        try:
            reply = wire.decode(tree, arrays, tagged, text=clean)  # the one place text of the student's comes in
            if not isinstance(reply, dict):
                raise wire.WireError(f"a reply must be a dict, not {type(reply).__name__}")
        except Exception as err:  # noqa: BLE001 - whatever the sandbox wrote, it is not a valid reply
            self.close()
            raise SandboxDied(f"the process broke the grading channel: {err}") from None
        if "hung" in reply:  # the runner's watchdog: time is up, and this is what was running
            self.close()
            functions = [str(f) for f in reply["hung"]] if isinstance(reply["hung"], list) else []
            raise SandboxTimeout(f"did not finish within {timeout:g} s", functions)
        reply["wall_seconds"] = time.monotonic() - start
        after = self.cpu_seconds()
        reply["cpu_seconds"] = after - cpu if cpu is not None and after is not None else None
        return reply

    def _wait(self, timeout: float, what: str) -> dict:
        try:
            item = self._replies.get(timeout=timeout)
        except queue.Empty:
            self.close()
            raise SandboxTimeout(f"{what} did not finish within {timeout:g} s") from None
        if isinstance(item, BaseException):
            code = self._exit_code()
            self.close()
            if isinstance(item, EOFError):
                raise SandboxDied(f"the process ended while {what} ({code})")
            raise SandboxDied(f"the process broke the grading channel while {what}: {item}")
        return item

    def _exit_code(self) -> str:
        if self.proc is None:
            return "no process"
        try:
            code = self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return "still running"
        if code < 0:
            name = signal.Signals(-code).name
            why = {
                "SIGKILL": "killed: out of memory or a limit",
                "SIGSEGV": "crashed",
                "SIGXCPU": "CPU time limit",
                "SIGXFSZ": "file size limit",
            }.get(name, "signal")
            return f"{name}, {why}"
        return f"exit code {code}"

    def _read_replies(self, proc: subprocess.Popen) -> None:
        try:
            while True:
                message = wire.read_message(proc.stdout)
                if message is None:
                    self._replies.put(EOFError())
                    return
                self._replies.put(message)
        except BaseException as err:  # noqa: BLE001 - malformed output from the sandbox
            self._replies.put(err)

    def _drain_stderr(self, proc: subprocess.Popen) -> None:
        try:
            while chunk := proc.stderr.read(65536):
                if len(self._stderr) < STDERR_CAP + 1:
                    self._stderr += chunk[: STDERR_CAP + 1 - len(self._stderr)]
        except (OSError, ValueError):
            pass

    # -------------------------------------------------------------- the box

    def _private_tmp(self) -> str:
        if self._stage is None:
            self._stage = tempfile.TemporaryDirectory(prefix="cnn-grading-")
            os.chmod(self._stage.name, 0o755)
            os.makedirs(os.path.join(self._stage.name, "tmp"), exist_ok=True)
            if self.uid is not None:
                os.chown(os.path.join(self._stage.name, "tmp"), self.uid, self.uid)
        return os.path.join(self._stage.name, "tmp")

    def _stage_file(self, name: str, data: bytes):
        """``data`` in a file of the stage folder, open for reading (for bwrap to read from its fd)."""
        path = os.path.join(os.path.dirname(self._private_tmp()), name)
        with open(path, "wb") as f:
            f.write(data)
        return open(path, "rb")  # noqa: SIM115 - the caller closes it

    def _limit(self) -> None:
        """In the child before exec: resource limits that every process of the sandbox inherits.
        The process limit is set by the runner itself, inside the sandbox's user namespace (see there)."""
        lim = self.limits
        for what, value in (
            (resource.RLIMIT_AS, lim.memory),
            (resource.RLIMIT_CPU, lim.cpu_seconds),
            (resource.RLIMIT_FSIZE, lim.file_size),
            (resource.RLIMIT_NOFILE, lim.open_files),
            (resource.RLIMIT_CORE, 0),
        ):
            resource.setrlimit(what, (value, value))

    def _binds(self) -> list[tuple[str, str]]:
        """(host path, path in the box) of the read-only binds: Python and the grading files."""
        return [(src, src) for src in _bind_sources()] + [(str(self.grading_files), GRADING_DIR)]

    def _box_options(self, seccomp_fd: int | None) -> list[str]:
        """bwrap's options. The box's root, /dev and every path not listed are read-only; the only
        writable places are /tmp (the home and working directory) and /dev/shm, each a tmpfs of
        ``file_size`` bytes, and the seccomp filter refuses memory that no file system caps.
        Its own user namespace (where the runner's process limit counts only the box's
        processes), with no further user namespaces inside."""
        cap = str(self.limits.file_size)
        box = ["--unshare-all", "--unshare-user", "--die-with-parent", "--new-session"]
        if _bwrap_has("--disable-userns"):  # bubblewrap 0.8 on (nested namespaces count against the limits anyway)
            box.append("--disable-userns")
        if seccomp_fd is not None:
            box += ["--seccomp", str(seccomp_fd)]
        box += ["--ro-bind", "/usr", "/usr"]
        for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
            if os.path.islink(top):
                box += ["--symlink", os.readlink(top), top]
            elif os.path.isdir(top):
                box += ["--ro-bind", top, top]
        for extra in ("/etc/ld.so.cache", "/etc/localtime"):
            if os.path.exists(extra):
                box += ["--ro-bind", extra, extra]
        box += ["--proc", "/proc", "--dev", "/dev", "--size", cap, "--tmpfs", "/dev/shm", "--size", cap, "--tmpfs", "/tmp"]
        if self.uid is None:  # an ordinary user: bwrap binds what that user can read
            binds = self._binds()
        else:  # root: the same sources, reached through the private mount namespace of _command
            stage = Path(self._private_tmp()).parent
            binds = [(str(stage / f"b{i}"), dest) for i, (_, dest) in enumerate(self._binds())]
        for src, dest in binds:
            box += ["--ro-bind", src, dest]
        box += ["--remount-ro", "/dev", "--remount-ro", "/", "--chdir", "/tmp", "--clearenv"]
        for key, value in {**_env(), "GRADING_OWN_PIDS": "1"}.items():  # the runner may kill strays
            box += ["--setenv", key, value]
        return box

    def _command(self, args_fd: int) -> list[str]:
        """What starts bwrap, which reads its options from ``args_fd``."""
        bwrap = [shutil.which("bwrap") or "bwrap", "--args", str(args_fd)]
        if self.uid is None:
            return bwrap
        # root: make the bind sources reachable for the unprivileged uid through a private mount
        # namespace (e.g. a Python under /root), then drop to the claimed uid before bwrap starts.
        stage = Path(self._private_tmp()).parent
        script = []
        for i, (src, _) in enumerate(self._binds()):
            (stage / f"b{i}").mkdir(exist_ok=True)
            script.append(f'mount --bind "${{{i + 1}}}" {_quote(str(stage / f"b{i}"))}')
        drop = ["setpriv", f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups"]
        sources = [src for src, _ in self._binds()]
        script += [f"shift {len(sources)}", "exec " + " ".join(_quote(x) for x in drop + bwrap) + ' "$@"']
        return ["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-e", "-c", "\n".join(script), "sh", *sources]


def _nproc_per_user_namespace() -> bool:
    """Whether RLIMIT_NPROC counts processes per user namespace (Linux 5.14 on). Before, it counts
    every process of the real uid: for an ordinary user, also the instructor's own, so the sandbox
    gets no process limit there (grade as root, where each sandbox has a uid of its own)."""
    version = tuple(int(x) for x in re.findall(r"\d+", platform.release())[:2])
    return version >= (5, 14)


@functools.cache
def _bwrap_has(option: str) -> bool:
    """Whether the installed bwrap knows ``option`` (its --help lists every option)."""
    out = subprocess.run(["bwrap", "--help"], capture_output=True, text=True, env=_env())
    return option in out.stdout + out.stderr


DENIED_SYSCALLS = ("memfd_create", "memfd_secret", "shmget")  # shared memory beyond every cap (and RLIMIT_AS)


@functools.cache
def _seccomp_filter() -> bytes | None:
    """A seccomp program (compiled by libseccomp) under which DENIED_SYSCALLS fail with EPERM and
    everything else is allowed; None where libseccomp is not installed."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("seccomp")
    if name is None:
        return None
    lib = ctypes.CDLL(name)
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint]
    lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    allow, refuse = 0x7FFF0000, 0x00050000 | errno.EPERM  # SCMP_ACT_ALLOW, SCMP_ACT_ERRNO(EPERM)
    ctx = lib.seccomp_init(allow)
    if not ctx:
        raise SandboxError("libseccomp could not start a filter")
    try:
        for call in DENIED_SYSCALLS:
            number = lib.seccomp_syscall_resolve_name(call.encode())
            if number >= 0 and lib.seccomp_rule_add(ctx, refuse, number, 0) != 0:
                raise SandboxError(f"libseccomp could not add a rule for {call}")
        with tempfile.TemporaryFile() as f:
            if lib.seccomp_export_bpf(ctx, f.fileno()) != 0:
                raise SandboxError("libseccomp could not write the filter")
            f.seek(0)
            return f.read()
    finally:
        lib.seccomp_release(ctx)


def _quote(word: str) -> str:
    return "'" + word.replace("'", "'\\''") + "'"


_claimed: list = []  # (uid, open lock file) of this process, held until it exits
LOCK_DIR = Path("/run/lock/cnn-grading")  # the uid locks: one place for every grading, whatever its TMPDIR


def claim_uid() -> int:
    """A sandbox uid for this process alone: the first of UID_BASE.. whose lock file (in LOCK_DIR,
    the same for every grading on the machine) no other process holds and that runs no process,
    so that two gradings at once (two assignments, two courses, any TMPDIR) never share a uid,
    and killing every process of one uid cannot touch the other's sandboxes."""
    if _claimed:
        return _claimed[0][0]
    import fcntl

    folder = _lock_dir()
    for uid in range(UID_BASE, UID_BASE + UID_COUNT):
        fd = os.open(folder / f"uid-{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        if processes_of(uid):  # a sandbox of a grading that lost its lock (or another program's uid)
            os.close(fd)
            continue
        _claimed.append((uid, fd))
        return uid
    raise SandboxError(
        f"all {UID_COUNT} sandbox uids from {UID_BASE} are in use by other gradings or running processes "
        "(CNN_GRADING_UID_BASE chooses another range)"
    )


def _lock_dir() -> Path:
    """LOCK_DIR, made by root and refused if anyone else could have planted files in it."""
    LOCK_DIR.parent.mkdir(parents=True, exist_ok=True)
    try:
        LOCK_DIR.mkdir(mode=0o700)
    except FileExistsError:
        pass
    info = os.lstat(LOCK_DIR)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != 0 or info.st_mode & 0o022:
        raise SandboxError(f"{LOCK_DIR} must be a folder owned by root and writable by root alone: remove it and grade again")
    return LOCK_DIR


def _become_subreaper() -> None:
    """Make orphans of our sandboxes (bwrap's inner init, daemons) our children, so that
    _reap_orphans collects them even where PID 1 reaps nothing (some containers)."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def _reap_orphans() -> None:
    """Collect the exit status of every child that has ended (no zombies left behind)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def kill_uid(uid: int) -> int:
    """SIGKILL every process of ``uid`` (a sandbox's); returns how many were still there."""
    found = 0
    for _ in range(50):
        pids = processes_of(uid)
        if not pids:
            return found
        found = max(found, len(pids))
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.02)
    return found


def _statuses() -> Iterator[tuple[int, dict[str, str]]]:
    """(pid, fields of /proc/PID/status) of every process on the machine (one that ends meanwhile is skipped)."""
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/status") as f:
                    yield int(entry), dict(line.split(":", 1) for line in f.read().splitlines() if ":" in line)
            except (FileNotFoundError, ProcessLookupError):
                continue


def _process_table() -> list[tuple[int, int, str]]:
    """(pid, parent pid, pid in its own PID namespace) of every process on the machine."""
    return [(pid, int(status["PPid"]), status.get("NSpid", str(pid)).split()[-1]) for pid, status in _statuses()]


def processes_of(uid: int) -> list[int]:
    """Live (not zombie) processes whose real uid is ``uid``."""
    return [
        pid for pid, status in _statuses() if int(status["Uid"].split()[0]) == uid and not status["State"].strip().startswith("Z")
    ]
