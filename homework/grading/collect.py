"""Take in a class's notebook submissions for one assignment.

``collect(source, assignment, dest, identify=...)`` reads a folder or a ``.zip`` and writes
``dest/<student_id>.ipynb`` for every kept submission plus ``dest/manifest.json``.
The layout is recognised per file, first rule that fits:

1. **Moodle** "Download all submissions" (source: ``mod/assign/classes/downloader.php``
   and the older ``mod/assign/locallib.php``). Per-student folders
   ``<Full Name>_<participant id>_assignsubmission_file/<file>`` (Moodle 4.1+; 3.1-4.0 ends the
   folder with an extra ``_``), or, with "download as folders" off, flat files
   ``<Full Name>_<participant id>_assignsubmission_file_<file>``. Moodle writes ``_`` in names
   as spaces, so its prefix is read from the left up to the first ``_<digits>_assignsubmission_``.
   Entries of other plugins (``assignsubmission_onlinetext`` ...) are ignored.
2. **Canvas** "Download Submissions" (source: ``lib/content_zipper.rb``): flat files
   ``<lastnamefirstname>[_LATE]_<user id>_<attachment id>_<file name>``; the name part is the
   user's "Last, First" with every non-word character removed, lowercased; anonymous grading
   writes ``[LATE_]anon_<anonymous id>`` instead of name and user id. A re-uploaded file keeps
   its name with ``-1``, ``-2`` ... before the extension (``hw2_conv-1.ipynb``).
3. **One folder per student**: ``<student>/<any name>.ipynb`` (deeper files count for the
   top folder).
4. **Flat**: ``<student>_<assignment>.ipynb``; the id is everything before ``_<assignment>``,
   so ids may contain ``_``.

Only the part of a path the LMS or the instructor wrote says whose a file is: the top folder, or
the LMS's prefix of a top-level name. Whatever a student names their own file or folders (even
another student's Moodle or Canvas prefix) is data and never changes whose it is.

If everything sits in one top folder (a zipped ``submissions/`` folder), that folder is
looked into, unless its files only make sense as that one student's (``alice/work.ipynb``).
A ``.zip`` that rules 1-4 attribute to one student (a student who uploaded a zip of their
work) is opened one level deep; its notebooks count as that student's. Other zips inside
the source are skipped with a reason. At the top level, a name shaped like
``<word>_<digits>_<digits>_<rest>`` is read as Canvas's, so flat ids must not look like that.

Canvas and Moodle stamp every file of a download with the time of the download, not of the
submission, so for those layouts ``submitted_at`` is unknown and ``late`` comes from Canvas's
``LATE`` mark only. For the other layouts the time is the file's mtime or the source zip's entry
time; a notebook in a student's zip has the time of that zip (the dates inside are the student's).

Sizes are capped per file and per student (what one student's files unpack to, and a ratio guard
against zip bombs), never for the class: one upload costs only its own student. Any bytes in a
file name are read, and shown escaped (:func:`shown`) in ids, origins and the manifest.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import os
import re
import shutil
import stat
import struct
import tempfile
import unicodedata
import zipfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

MB = 1024 * 1024
MAX_FILE_BYTES = 20 * MB
MAX_STUDENT_BYTES = 60 * MB  # all the data one student's files may unpack to (read or not)
MAX_ZIP_BYTES = 100 * MB  # a student's zip itself, held while its notebooks are read
MAX_RATIO = 200  # a zip entry over 4 MB that unpacks to more than 200 times its size is a bomb
_BOMB_FLOOR = 4 * MB
MAX_ZIP_ENTRIES = 10_000  # files in a student's zip (zipfile reads them all before anything else)
_ZIP_REASONS = 20  # skip reasons listed per student's zip; the rest are counted in one line
MAX_STUDENT_FILES = 200  # notebooks and zips read per student; further ones are counted, not read
MANIFEST = "manifest.json"
_STAGING = ".collecting"  # created first in dest; also marks dest as ours if a run dies

LMS_LAYOUTS = ("canvas", "moodle")

# Canvas: name part may contain "_" but never "_<digits>_" (Canvas removes those).
_CANVAS = re.compile(
    r"^(?:(?P<name>\w*?)_)??(?:(?P<late>LATE|late)_)?"
    r"(?P<uid>\d+|anon_[0-9A-Za-z]+)_(?P<fid>\d+)_(?P<file>.+)$"
)
_CANVAS_RESUBMIT = re.compile(r"-(\d+)$")
# Moodle writes the name with every "_" as a space, so its part of a path is read from the left up
# to the first "_<digits>_assignsubmission_": whatever the student named their file, it cannot move
# the name or id (a file named "Ann Lee_12346_assignsubmission_file_x.ipynb" stays its uploader's).
_MOODLE_DIR = re.compile(r"^(?P<name>[^_]+)_(?P<pid>\d+)_assignsubmission_(?P<plugin>[a-z0-9]+)_?$")
_MOODLE_FILE = re.compile(r"^(?P<name>[^_]+)_(?P<pid>\d+)_assignsubmission_(?P<plugin>[a-z0-9]+)_(?P<file>.+)$")
_SAFE_ROSTER_ID = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*$")


# --------------------------------------------------------------------------- roster


@dataclass(frozen=True)
class RosterStudent:
    student_id: str
    name: str = ""
    email: str = ""
    canvas_id: str = ""
    moodle_id: str = ""


@dataclass(frozen=True)
class Roster:
    """The class list: who may submit, and how LMS files map to student ids."""

    students: tuple[RosterStudent, ...]

    @classmethod
    def read(cls, path: Path) -> Roster:
        """Read a CSV with a ``student_id`` column and optional ``name``, ``email``,
        ``canvas_id``, ``moodle_id`` columns (header names are case-insensitive)."""
        path = Path(path)
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            header = [(h or "").strip().lower() for h in reader.fieldnames or []]
            if "student_id" not in header:
                raise ValueError(
                    f"{path}: no 'student_id' column (found: {', '.join(header) or 'nothing'}); "
                    "the first line must name the columns, e.g. student_id,name,email"
                )
            reader.fieldnames = header
            students, seen = [], {}
            for line, row in enumerate(reader, start=2):
                cells = {k: (v or "").strip() for k, v in row.items() if k in RosterStudent.__annotations__}
                if not any(cells.values()):
                    continue
                sid = cells.get("student_id", "")
                if not _SAFE_ROSTER_ID.match(sid):
                    raise ValueError(
                        f"{path}, line {line}: student_id {sid!r} is not usable as a file name: "
                        "use only letters, digits, '_', '-' and '.' (not first)"
                    )
                if sid.lower() in seen:
                    raise ValueError(
                        f"{path}, line {line}: student_id {sid!r} repeats line {seen[sid.lower()]} "
                        "(ids must differ also ignoring case)"
                    )
                seen[sid.lower()] = line
                students.append(RosterStudent(**cells))
        return cls(tuple(students))

    def ids(self) -> list[str]:
        return sorted(s.student_id for s in self.students)

    def match(self, who: _Who) -> tuple[str | None, str]:
        """The roster id for a submitter, and how it was matched (or why not)."""

        def unique(hits: list[RosterStudent], how: str) -> tuple[str | None, str] | None:
            ids = sorted({s.student_id for s in hits})
            if len(ids) == 1:
                return ids[0], how
            if len(ids) > 1:
                return None, f"{how} fits several roster students ({', '.join(ids)})"
            return None

        # A name is matched only to students whose LMS id the roster does not give: another account
        # of the same name is someone else.
        tries: list[tuple[list[RosterStudent], str]] = []
        if who.layout == "canvas":
            tries.append(([s for s in self.students if s.canvas_id and s.canvas_id == who.lms_id], "canvas_id"))
            key = _squash(who.label)
            tries.append(([s for s in self.students if not s.canvas_id and key and key in _canvas_keys(s.name)], "name"))
        elif who.layout == "moodle":
            tries.append(([s for s in self.students if s.moodle_id and s.moodle_id == who.lms_id], "moodle_id"))
            key = _name_key(who.label)
            tries.append(([s for s in self.students if not s.moodle_id and key and _name_key(s.name) == key], "name"))
        else:
            label = who.label
            tries.append(([s for s in self.students if s.student_id == label], "student_id"))
            tries.append(([s for s in self.students if safe_id(s.student_id) == safe_id(label)], "student_id"))
            tries.append(
                (
                    [s for s in self.students if s.email and label.lower() in (s.email.lower(), s.email.lower().split("@")[0])],
                    "email",
                )
            )
            key = _name_key(label)
            tries.append(([s for s in self.students if key and len(key) > 1 and _name_key(s.name) == key], "name"))
        for hits, how in tries:
            found = unique(hits, how)
            if found:
                return found
        return None, "not on the roster"


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Submission:
    """One kept notebook: ``path`` is ``dest/<student_id>.ipynb``."""

    student_id: str
    path: Path
    origin: str  # where it came from, relative to the source ("a.zip!/x" = inside a.zip)
    layout: str  # "flat", "folder", "canvas" or "moodle"
    submitted_at: datetime | None
    late: bool
    attempt: int | None  # Canvas: 1 for the first upload, 2 for "-1", ...
    readable: bool  # False: identify() could not read it; the grader reports the failure
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Skipped:
    origin: str
    reason: str


@dataclass
class CollectResult:
    submissions: list[Submission]
    skipped: list[Skipped]
    missing: list[str]  # roster students without a submission (empty without a roster)
    notes: list[str] = field(default_factory=list)
    manifest: Path | None = None

    def by_id(self) -> dict[str, Submission]:
        return {s.student_id: s for s in self.submissions}


# --------------------------------------------------------------------------- names and ids


def safe_id(raw: str) -> str:
    """``raw`` as a safe file name: lowercase ASCII letters, digits, ``_``, ``-``, ``.``."""
    text = unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"[^a-z0-9_.-]+", "_", text)
    text = re.sub(r"_{2,}", "_", text).strip("._-")
    if not text:  # nothing ASCII left (e.g. a name in another script): a stable stand-in
        text = "student_" + hashlib.sha1(raw.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return text


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _words(name: str) -> list[str]:
    return re.findall(r"[^\W_]+", _fold(name))


def _name_key(name: str) -> tuple[str, ...]:
    return tuple(sorted(_words(name)))


def _squash(name: str) -> str:
    return "".join(_words(name))


def _canvas_keys(name: str) -> set[str]:
    """Canvas writes "Last, First" squashed ("smithjohn"): every word order of a roster name."""
    words = _words(name)
    if not words:
        return set()
    if len(words) > 4:
        return {"".join(words), "".join(words[-1:] + words[:-1])}
    return {"".join(p) for p in itertools.permutations(words)}


# --------------------------------------------------------------------------- reading the source


@dataclass
class _Who:
    """A submitter as the file's path tells it."""

    layout: str
    label: str  # flat/folder: the raw id; LMS: the name as written
    lms_id: str | None = None

    def key(self) -> tuple[str, str]:
        return (self.layout, self.lms_id) if self.layout in LMS_LAYOUTS else ("id", safe_id(self.label))


@dataclass
class _Entry:
    parts: tuple[str, ...]  # path inside the source, "\\" read as "/", each part as shown()
    size: int  # declared size
    read: Callable[[int], bytes]  # reads at most n bytes
    when: datetime | None
    unsafe: str | None = None  # why it must not be read; parts then hold the name as stored
    packed: int | None = None  # in a zip: the compressed size
    odd_name: bool = False  # the name as stored is not printable UTF-8 (parts show it escaped)


@dataclass
class _Found:
    origin: str
    who: _Who
    when: datetime | None  # the LMS's or instructor's time of the file (of the zip it came in)
    inner_when: datetime | None = None  # inside a student's zip: the entry's date, set by the student
    path: Path | None = None  # the bytes, spooled to a temporary file
    late_mark: bool = False
    attempt: int | None = None
    order: int = -1  # Canvas attachment id: higher = uploaded later
    name_hit: bool = False  # the file name mentions the assignment
    belongs: str | None = None  # identify()'s answer
    notes: list[str] = field(default_factory=list)


def _ignored(parts: tuple[str, ...]) -> tuple[str, str] | None:
    """(folder or file, reason) when the path lies in / is something never collected."""
    for i, part in enumerate(parts):
        where = "/".join(parts[: i + 1]) + ("/" if i < len(parts) - 1 else "")
        if part == "__MACOSX":
            return where, "macOS metadata, ignored"
        if part == ".ipynb_checkpoints":
            return where, "Jupyter checkpoints, ignored"
        if part.startswith(".") or part.startswith("~$") or part in ("Thumbs.db", "desktop.ini"):
            return where, "hidden or system file, ignored"
    return None


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=timezone.utc)


def _zip_time(info: zipfile.ZipInfo, tz) -> datetime | None:
    """The entry's time: the UTC time of the extended-timestamp (Info-ZIP, macOS) or NTFS
    (Windows) extra field when present, else the DOS time, which has no zone, read in ``tz``."""
    extra = info.extra
    while len(extra) >= 4:
        tag, size = struct.unpack("<HH", extra[:4])
        body = extra[4 : 4 + size]
        if tag == 0x5455 and len(body) >= 5 and body[0] & 1:
            return _utc(struct.unpack("<i", body[1:5])[0])
        if tag == 0x000A and len(body) >= 32 and struct.unpack("<HH", body[4:8]) == (1, 24):
            filetime = struct.unpack("<Q", body[8:16])[0]
            return datetime(1601, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=filetime // 10)
        extra = extra[4 + size :]
    try:
        return datetime(*info.date_time, tzinfo=tz)
    except ValueError:
        return None


_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def shown(text: str) -> str:
    """``text`` safe to print and to write as UTF-8, whatever a student put in it: bytes of a file
    name that are not UTF-8 (``os.fsdecode``'s surrogate escapes) as ``\\xNN``, other lone surrogates
    as ``\\udNNN``, control and text-direction characters escaped."""
    try:
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return _UNPRINTABLE.sub(lambda m: m[0].encode("unicode_escape").decode("ascii"), text)


def _zip_entries(zf: zipfile.ZipFile, tz) -> Iterator[_Entry]:
    for info in sorted(zf.infolist(), key=lambda i: i.filename):
        name = info.filename.replace("\\", "/")
        if name.endswith("/"):
            continue
        raw_parts = name.split("/")
        parts = tuple(shown(p) for p in raw_parts if p not in ("", "."))
        unsafe = None
        if name.startswith("/") or re.match(r"^[A-Za-z]:", name) or ".." in raw_parts:
            unsafe = "unsafe path in the zip (absolute or with '..'): not extracted"
        elif stat.S_ISLNK(info.external_attr >> 16):
            unsafe = "a symbolic link in the zip: not followed"

        def read(limit: int, info=info) -> bytes:
            with zf.open(info) as f:
                return f.read(limit)

        shown_parts = parts if parts and not unsafe else (shown(info.filename),)
        odd = shown_parts != tuple(p for p in raw_parts if p not in ("", ".")) and not unsafe
        yield _Entry(shown_parts, info.file_size, read, _zip_time(info, tz), unsafe, info.compress_size, odd)


def _folder_entries(root: Path) -> Iterator[_Entry]:
    """The files under ``root``; names are read as the file system gives them (any bytes) and
    shown() for everything else."""
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames.sort()
        for d in list(dirnames):
            if (here / d).is_symlink():
                dirnames.remove(d)
                parts = tuple(shown(p) for p in (here / d).relative_to(root).parts)
                yield _Entry(parts, 0, lambda n: b"", None, "a symbolic link: not followed")
        for name in sorted(filenames):
            path = here / name
            raw_parts = path.relative_to(root).parts
            parts = tuple(shown(p) for p in raw_parts)
            if path.is_symlink():
                yield _Entry(parts, 0, lambda n: b"", None, "a symbolic link: not followed")
                continue
            info = path.stat()

            def read(limit: int, path=path) -> bytes:
                with path.open("rb") as f:
                    return f.read(limit)

            yield _Entry(parts, info.st_size, read, _utc(info.st_mtime), odd_name=parts != raw_parts)


def _moodle(parts: tuple[str, ...]) -> re.Match | None:
    """Moodle's own part of a path: the top folder it made for a student, or the name of a file at
    the top (a flat download). Deeper names are the student's and never say whose the file is."""
    return _MOODLE_DIR.match(parts[0]) if len(parts) > 1 else _MOODLE_FILE.match(parts[0])


def _whose(parts: tuple[str, ...], assignment: str, suffix: str) -> _Who | str:
    """Who submitted the file at ``parts`` (under the root), or why that cannot be told. Only the
    part of the path the LMS or the instructor wrote counts: the top folder, or a top-level name."""
    m = _moodle(parts)
    if m:
        return _Who("moodle", m["name"], m["pid"])
    name = parts[-1]
    if len(parts) > 1:
        return _Who("folder", parts[0])
    m = _CANVAS.match(name)  # Canvas files lie at the top of the download
    if m:
        return _Who("canvas", m["name"] or m["uid"], m["uid"])
    tail = f"_{assignment}{suffix}"
    if name.lower().endswith(tail.lower()) and len(name) > len(tail):
        return _Who("flat", name[: -len(tail)])
    return f"cannot tell whose file this is: name it <student>_{assignment}{suffix} or put it in a folder named after the student"


def _moodle_plugin(parts: tuple[str, ...]) -> str | None:
    m = _moodle(parts)
    return m["plugin"] if m else None


def _file_name(parts: tuple[str, ...], who: _Who) -> str:
    """The name the student gave the file (LMS prefixes removed)."""
    name = parts[-1]
    if who.layout == "moodle" and len(parts) == 1:
        return _MOODLE_FILE.match(name)["file"]
    if who.layout == "canvas":
        return _CANVAS.match(name)["file"]
    return name


def _wrapper(entries: list[_Entry], assignment: str) -> tuple[str, ...]:
    """The folders every notebook and zip lies in (a zipped ``submissions/`` folder), to be
    looked into -- unless what is inside only makes sense as one student's folder."""
    live = [
        e.parts
        for e in entries
        if not e.unsafe and not _ignored(e.parts) and Path(e.parts[-1]).suffix.lower() in (".ipynb", ".zip")
    ]
    depth = 0
    while live and all(len(p) > depth + 1 for p in live) and len({p[depth] for p in live}) == 1:
        inner = [p[depth + 1 :] for p in live]
        if _MOODLE_DIR.match(live[0][depth]) or not any(
            len(q) > 1 or isinstance(_whose(q, assignment, Path(q[-1]).suffix.lower()), _Who) for q in inner
        ):
            break
        depth += 1
    return live[0][:depth] if live else ()


class _Reader:
    """Walks a source, applying the size caps, and gathers candidates and skip reasons.

    Budgets are per student: everything a student's files unpack to (kept, skipped or bombed) counts
    against that student's ``max_student`` bytes, so one upload can only cost its own student;
    classmates are always read. Kept notebooks are spooled to files, not held in memory."""

    def __init__(self, assignment: str, tz, spool: Path, max_file: int, max_student: int, max_zip: int) -> None:
        self.assignment, self.tz, self.spool = assignment, tz, spool
        self.max_file, self.max_student, self.max_zip = max_file, max_student, max_zip
        self.spent: Counter[tuple[str, str]] = Counter()
        self.listed: Counter[str] = Counter()  # skip reasons listed per student's zip
        self.files: Counter[tuple[str, str]] = Counter()  # notebooks and zips read per student
        self.found: list[_Found] = []
        self.skipped: list[Skipped] = []
        self.ignored: Counter[tuple[str, str]] = Counter()
        self.notes: list[str] = []

    def skip(self, origin: str, reason: str) -> None:
        if not self._over_zip_cap(origin):
            self.skipped.append(Skipped(origin, reason))

    def ignore(self, where: str, why: str) -> None:
        if (where, why) in self.ignored or not self._over_zip_cap(where):
            self.ignored[(where, why)] += 1

    def _over_zip_cap(self, origin: str) -> bool:
        """Whether a reason for a file in a student's zip is one too many to list (it is counted
        instead): however many files a zip holds, the manifest stays short."""
        if "!/" not in origin:
            return False
        zipped = origin.split("!/", 1)[0]
        self.listed[zipped] += 1
        if self.listed[zipped] <= _ZIP_REASONS:
            return False
        self.ignored[(zipped + "!/", "further files of this zip skipped")] += 1
        return True

    def load(self, entry: _Entry, origin: str, who: _Who, whole_zip: bool = False) -> bytes | None:
        """The entry's bytes, or None (with a skip reason) when a cap is hit. A student's zip
        (``whole_zip``) is only held while it is opened: what is read from it counts instead."""
        limit = self.max_zip if whole_zip else self.max_file
        spent = self.spent[who.key()]
        room = limit if whole_zip else self.max_student - spent
        if entry.size > limit:
            what = "a student's zip" if whole_zip else "one file"
            self.skip(origin, f"is {entry.size / MB:.1f} MB, over the {limit / MB:.0f} MB limit for {what}")
            return None
        if entry.size > room:
            self.skip(
                origin,
                f"not extracted: this student's files already unpacked to {spent / MB:.1f} MB of the "
                f"{self.max_student / MB:.0f} MB one student may send",
            )
            return None
        bomb = max(_BOMB_FLOOR, MAX_RATIO * entry.packed) if entry.packed is not None else None
        bomb_reason = f"unpacks to more than {MAX_RATIO} times its packed size (a zip bomb or a padded file): not extracted"
        if bomb is not None and entry.size > bomb:
            self.skip(origin, bomb_reason)
            return None
        cap = min(limit, room, bomb or limit)
        data = entry.read(cap + 1)
        if not whole_zip:
            self.spent[who.key()] += len(data)
        if bomb is not None and len(data) > bomb:
            self.skip(origin, bomb_reason)
            return None
        if len(data) > cap:  # the declared size lied or the file grew
            self.skip(origin, f"holds more than the {cap / MB:.1f} MB it may: not extracted")
            return None
        return data

    def walk(self, entries: list[_Entry], prefix: str = "", outer: _Found | None = None) -> None:
        """Take in ``entries``; inside a student's zip, ``outer`` is that zip's own candidate."""
        owner = outer.who if outer else None
        wrapper = () if outer else _wrapper(entries, self.assignment)
        depth = len(wrapper)
        if wrapper:
            self.notes.append(f"looked inside the single top folder {prefix}{'/'.join(wrapper)}/")
        for entry in entries:
            origin = prefix + "/".join(entry.parts)
            if entry.unsafe:
                self.skip(origin, entry.unsafe)
                continue
            ignored = _ignored(entry.parts)
            if ignored:
                self.ignore(prefix + ignored[0], ignored[1])
                continue
            parts = entry.parts[depth:] if entry.parts[:depth] == wrapper else entry.parts
            plugin = None if owner else _moodle_plugin(parts)
            if plugin and plugin != "file":
                self.skip(origin, f"Moodle {plugin} entry, ignored (only file submissions are collected)")
                continue
            suffix = Path(parts[-1]).suffix.lower()
            if suffix not in (".ipynb", ".zip"):
                self.skip(origin, f"not a notebook ({suffix or 'no extension'})")
                continue
            if owner and suffix == ".zip":
                self.skip(origin, "a zip inside a student's zip is not unpacked")
                continue
            who = owner or _whose(parts, self.assignment, suffix)
            if isinstance(who, str):
                if suffix == ".zip":
                    who = "a zip that is not one student's submission: pass it as the source itself to collect from it"
                self.skip(origin, who)
                continue
            self.files[who.key()] += 1
            if self.files[who.key()] > MAX_STUDENT_FILES:
                where = f"{who.layout} {who.label!r}" + (f" (id {who.lms_id})" if who.lms_id else "")
                self.ignored[(where, f"files beyond the first {MAX_STUDENT_FILES} of one student, not read")] += 1
                continue
            data = self.load(entry, origin, who, whole_zip=suffix == ".zip")
            if data is None:
                continue
            found = self.candidate(parts, origin, who, entry, outer)
            if suffix == ".zip":
                self.open_student_zip(found, data)
            else:
                found.path = self.spool / f"{len(self.found):05d}.ipynb"
                found.path.write_bytes(data)
                self.found.append(found)

    def open_student_zip(self, zipped: _Found, data: bytes) -> None:
        origin = zipped.origin
        if data.count(b"PK\x01\x02") > MAX_ZIP_ENTRIES:  # every file's directory record starts so
            self.skip(
                origin,
                f"a zip of more than {MAX_ZIP_ENTRIES} files: not opened; submit the .ipynb itself or a zip of your work folder",
            )
            return
        try:
            zf = zipfile.ZipFile(io.BytesIO(data))
            entries = list(_zip_entries(zf, self.tz))
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            self.skip(origin, f"a zip that cannot be opened ({shown(str(exc))})")
            return
        before = len(self.found)
        self.walk(entries, prefix=origin + "!/", outer=zipped)
        if len(self.found) == before:
            self.notes.append(f"{origin}: no notebook inside")

    def candidate(self, parts, origin: str, who: _Who, entry: _Entry, outer: _Found | None) -> _Found:
        """A file of ``who``'s. Its time and LMS marks are the LMS's: inside a student's zip, those
        of the zip (the entry dates in it are the student's to set and never make work on time)."""
        if outer:
            found = _Found(origin, who, outer.when, inner_when=entry.when)
            found.late_mark, found.order, found.attempt = outer.late_mark, outer.order, outer.attempt
        else:
            found = _Found(origin, who, None if who.layout in LMS_LAYOUTS else entry.when)
        name = parts[-1] if outer else _file_name(parts, who)
        found.name_hit = self.assignment.lower() in name.lower()
        if not outer and who.layout == "canvas":
            m = _CANVAS.match(parts[-1])
            found.late_mark, found.order = bool(m["late"]), int(m["fid"])
            resub = _CANVAS_RESUBMIT.search(Path(name).stem)
            found.attempt = int(resub[1]) + 1 if resub else 1
        if entry.odd_name:
            found.notes.append(f"the file's name has bytes that are not UTF-8 or characters that do not print: shown as {origin}")
        return found


# --------------------------------------------------------------------------- collect


def _check_dest(source: Path, dest: Path) -> None:
    src, dst = source.resolve(), dest.resolve()
    if dst == src or dst in src.parents:
        raise ValueError(
            f"dest {dest} contains the source {source}: collect would delete the source. Choose a dest folder outside it"
        )
    if src in dst.parents:
        raise ValueError(
            f"dest {dest} is inside the source {source}: a later collect would read its own "
            "output. Choose a dest folder outside the source"
        )
    if dst.exists():
        if not dst.is_dir():
            raise ValueError(f"dest {dest} is a file; give a folder (it is replaced on each collect)")
        ours = (dst / MANIFEST).is_file() or (dst / _STAGING).exists()
        if any(dst.iterdir()) and not ours:
            raise ValueError(
                f"dest {dest} is a non-empty folder that collect did not write (no {MANIFEST}); "
                "collect replaces dest wholly, so give a new or empty folder"
            )


def _derive_ids(keys: dict[tuple[str, str], _Who]) -> dict[tuple[str, str], tuple[str, list[str]]]:
    """Safe ids without a roster; LMS names shared by several people get the LMS id appended."""
    base = {key: safe_id(who.label) for key, who in keys.items()}
    taken = Counter(base.values())
    out: dict[tuple[str, str], tuple[str, list[str]]] = {}
    for key, who in sorted(keys.items()):
        sid, notes = base[key], []
        if taken[sid] > 1 and who.lms_id:
            sid = safe_id(f"{who.label}_{who.lms_id}")
            notes.append(f"{who.layout} name {who.label!r} is shared by several people: id gets the {who.layout} id ({sid})")
        elif sid != who.label:
            notes.append(f"id {who.label!r} was changed to {sid!r} (ids must be safe file names)")
        out[key] = (sid, notes)
    used: Counter[str] = Counter()
    for key in sorted(out):  # a last guard: ids never collide
        sid, notes = out[key]
        used[sid] += 1
        if used[sid] > 1:
            out[key] = (f"{sid}-{used[sid]}", notes + [f"id {sid!r} was taken: this one is {sid}-{used[sid]}"])
    return out


def _rank(f: _Found, assignment: str) -> tuple:
    """Sort key, best first when reversed: a readable notebook of this assignment, then the
    newest by the LMS's own order (Canvas attachment id / attempt, else the file's time); only
    among files of one upload (a student's zip) the student's entry dates and names decide."""

    def stamp(when: datetime | None) -> float:
        return when.timestamp() if when else float("-inf")

    return (f.belongs == assignment, f.order, f.attempt or 0, stamp(f.when), stamp(f.inner_when), f.name_hit, f.origin)


def _identify(identify: Callable[[Path], str | None], path: Path, found: _Found) -> str | None:
    try:
        return identify(path)
    except Exception as exc:  # a broken notebook must not stop the whole class
        found.notes.append(shown(f"identify() failed: {type(exc).__name__}: {exc}"))
        return None


def _student_ids(whos: dict[tuple[str, str], _Who], roster: Roster | None) -> dict[tuple[str, str], tuple[str | None, list[str]]]:
    """Submitter -> (student id or None when not on the roster, notes or the reason)."""
    if roster is None:
        return dict(_derive_ids(whos))
    ids: dict[tuple[str, str], tuple[str | None, list[str]]] = {}
    for key, who in whos.items():
        sid, how = roster.match(who)
        what = f"{who.layout} {who.label!r}"
        if who.lms_id not in (None, who.label):
            what += f" (id {who.lms_id})"
        if sid is None:
            ids[key] = (None, [f"{what}: {how}"])
        else:  # a name match is a guess worth showing
            ids[key] = (sid, [f"matched to the roster by name: {what}"] if how == "name" else [])
    accounts: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for key, (sid, _) in ids.items():
        if sid is not None and key[0] in LMS_LAYOUTS:
            accounts[sid].append(key)
    for sid, keys in accounts.items():
        if len(keys) > 1:  # several LMS accounts of one name: never guess which person is the student
            listed = ", ".join(f"{whos[k].label!r} (id {whos[k].lms_id})" for k in sorted(keys))
            reason = (
                f"{keys[0][0]} accounts {listed} all match roster student {sid} by name: add a {keys[0][0]}_id "
                "column to the roster to tell them apart"
            )
            ids.update({k: (None, [reason]) for k in keys})
    return ids


def _keep_one(
    sid: str,
    files: list[_Found],
    assignment: str,
    due: datetime | None,
    tz,
    dest: Path,
    id_notes: list[str],
    skipped: list[Skipped],
) -> Submission:
    """Write the best of one student's files to ``dest/<sid>.ipynb``; skip the rest with a reason."""
    best, *others = sorted(files, key=lambda f: _rank(f, assignment), reverse=True)
    for other in others:
        if best.belongs == assignment and other.belongs != assignment:
            why = f"unreadable, and {sid} has a readable notebook: {best.origin}"
        else:
            why = f"{sid} sent several notebooks; kept the newest: {best.origin}"
        skipped.append(Skipped(other.origin, why))
    out = dest / f"{sid}.ipynb"
    shutil.copyfile(best.path, out)
    notes = id_notes + best.notes
    if best.late_mark:
        notes.append("Canvas marked it LATE")
    if best.belongs is None:
        notes.append("not a readable notebook: collected so that the grader reports it")
    elif best.belongs != assignment:
        notes.append(f"is {best.belongs}'s notebook: collected so that the grader reports it")
    if others:
        notes.append(f"{len(others)} other file(s) of this student skipped")
    late = best.late_mark or bool(due and best.when and best.when > due)
    when = best.when.astimezone(tz) if best.when else None
    return Submission(sid, out, best.origin, best.who.layout, when, late, best.attempt, best.belongs == assignment, tuple(notes))


def collect(
    source: Path,
    assignment: str,
    dest: Path,
    *,
    roster: Roster | None = None,
    due: datetime | None = None,
    identify: Callable[[Path], str | None],
    max_file_bytes: int = MAX_FILE_BYTES,
    max_student_bytes: int = MAX_STUDENT_BYTES,
    max_zip_bytes: int = MAX_ZIP_BYTES,
) -> CollectResult:
    """Collect ``assignment``'s notebooks from ``source`` (folder or .zip) into ``dest``.

    ``identify(path)`` names the assignment a notebook belongs to, or None if it cannot be
    read; it is given a copy in a temporary folder. Another assignment's notebook is skipped when
    its file name says so (a mixed folder); handed in under this assignment's name it is collected,
    so that the student's row says what went wrong. Size caps are per file and per student (what
    one student's files may unpack to, see :class:`_Reader`), never for the class. ``dest`` is
    replaced wholly; nothing is written outside it."""
    source, dest = Path(source), Path(dest)
    if due is not None and due.tzinfo is None:
        raise ValueError(
            "due must be timezone-aware, e.g. datetime(2026, 3, 1, 23, 59, tzinfo=zoneinfo.ZoneInfo('Europe/Berlin'))"
        )
    if not source.exists():
        raise FileNotFoundError(f"source {source} does not exist: give the folder or .zip of submissions")
    if not source.is_dir() and not zipfile.is_zipfile(source):
        raise ValueError(f"source {source} is neither a folder nor a .zip file")
    _check_dest(source, dest)
    tz = due.tzinfo if due is not None else timezone.utc

    # 1. Read the source: candidates (spooled to a temporary folder) and skip reasons.
    with tempfile.TemporaryDirectory(prefix="cnn-collect-") as spool:
        reader = _Reader(assignment, tz, Path(spool), max_file_bytes, max_student_bytes, max_zip_bytes)
        if source.is_dir():
            reader.walk(list(_folder_entries(source)))
        else:
            try:
                with zipfile.ZipFile(source) as zf:
                    reader.walk(list(_zip_entries(zf, tz)))
            except UnicodeDecodeError as exc:
                raise ValueError(
                    f"source {source} has a file name marked UTF-8 that is not ({exc}): unpack it (unzip) and "
                    "pass the folder instead, where any name is read"
                ) from exc
            except (zipfile.BadZipFile, OSError) as exc:
                raise ValueError(f"source {source} is a damaged zip ({exc}): download it again") from exc
        return _sort_out(reader, assignment, source, dest, roster, due, tz, identify)


def _sort_out(
    reader: _Reader,
    assignment: str,
    source: Path,
    dest: Path,
    roster: Roster | None,
    due: datetime | None,
    tz,
    identify: Callable[[Path], str | None],
) -> CollectResult:
    """Steps 2-4 of collect: what each file is, whose it is, the one kept per student, the manifest."""
    skipped = list(reader.skipped)
    skipped += [Skipped(where, f"{why} ({n} file{'s' if n > 1 else ''})") for (where, why), n in sorted(reader.ignored.items())]

    # 2. Which assignment each notebook belongs to.
    if dest.exists():
        shutil.rmtree(dest)
    staging = dest / _STAGING
    staging.mkdir(parents=True)
    ours: list[_Found] = []
    for found in reader.found:
        found.belongs = _identify(identify, found.path, found)
        if (
            found.belongs is not None and found.belongs != assignment and found.belongs.lower() in found.origin.lower()
        ):  # a mixed folder: not for this one
            skipped.append(Skipped(found.origin, f"is {found.belongs}'s notebook, not {assignment}'s"))
        else:  # handed in for this assignment: even the wrong notebook gets a row that says so
            ours.append(found)

    # 3. Who is who: roster ids, or safe ids derived from the file names.
    ids = _student_ids({f.who.key(): f.who for f in ours}, roster)
    by_student: dict[str, list[_Found]] = defaultdict(list)
    id_notes: dict[str, list[str]] = defaultdict(list)
    for found in ours:
        sid, notes = ids[found.who.key()]
        if sid is None:
            skipped.append(Skipped(found.origin, notes[0]))
            continue
        by_student[sid].append(found)
        id_notes[sid] += [note for note in notes if note not in id_notes[sid]]

    # 4. One notebook per student, and the manifest.
    submissions = [
        _keep_one(sid, by_student[sid], assignment, due, tz, dest, id_notes[sid], skipped) for sid in sorted(by_student)
    ]
    missing = sorted(set(roster.ids()) - set(by_student)) if roster is not None else []
    notes = list(reader.notes)
    if due is not None and {s.layout for s in submissions} & set(LMS_LAYOUTS):
        notes.append(
            "Canvas/Moodle downloads carry the download time, not the submission time: "
            "lateness of those files comes from Canvas's LATE mark only"
        )
    skipped.sort(key=lambda s: (s.origin, s.reason))
    result = CollectResult(submissions, skipped, missing, notes, dest / MANIFEST)
    _write_manifest(result, assignment, source, due)
    shutil.rmtree(staging)  # last: while it exists, dest is known to be ours even if a run died
    return result


def _write_manifest(result: CollectResult, assignment: str, source: Path, due: datetime | None) -> None:
    manifest = {
        "assignment": assignment,
        "source": shown(source.name),
        "due": due.isoformat() if due else None,
        "students": {
            s.student_id: {
                "file": s.path.name,
                "origin": s.origin,
                "layout": s.layout,
                "submitted_at": s.submitted_at.isoformat() if s.submitted_at else None,
                "late": s.late,
                "attempt": s.attempt,
                "readable": s.readable,
                "notes": list(s.notes),
            }
            for s in result.submissions
        },
        "skipped": [{"origin": s.origin, "reason": s.reason} for s in result.skipped],
        "missing": result.missing,
        "notes": result.notes,
    }
    text = json.dumps(_printable(manifest), indent=2, sort_keys=True, ensure_ascii=False)
    result.manifest.write_text(text + "\n", encoding="utf-8")


def _printable(value):
    """``value`` with every string (keys too) shown(): the manifest is valid UTF-8 JSON whatever
    a file name, a notebook or identify() held (texts are shown() where they enter; this is the guard)."""
    if isinstance(value, str):
        return shown(value)
    if isinstance(value, dict):
        return {shown(k): _printable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_printable(v) for v in value]
    return value
