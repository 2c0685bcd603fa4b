"""Reading policy files: their bytes (bounded, regular files only), their UTF-8 text, and the
source map that says where each value was written.

Apart from yamlsource.py (the YAML parser) so that a model from the cache, whose expressions
keep their source maps, unpickles without importing PyYAML.
"""
from __future__ import annotations

import os
import pickle
import stat
from pathlib import Path as FilePath

from ..errors import Location, Problem
from ..limits import MAX_FILE_BYTES

Path = tuple


class SourceMap:
    """Locations of the values of one YAML document, by path.

    A model holds one per policy file (its expressions keep theirs, to locate errors inside
    them): tens of thousands of locations in all, which a model from the cache rarely asks for
    and which took most of its unpickling time.  So they are pickled as one packed blob (inside
    the cache entry, under its HMAC) and unpacked when first asked for."""

    def __init__(self, file: str, positions: dict | None = None, key_positions: dict | None = None,
                 scalar_styles: dict | None = None):
        self.file = file
        self._maps = ({} if positions is None else positions, {} if key_positions is None else key_positions,
                      {} if scalar_styles is None else scalar_styles)
        self._packed = None

    def _unpacked(self) -> tuple[dict, dict, dict]:
        if self._maps is None:
            self._maps = pickle.loads(self._packed)
        return self._maps

    @property
    def positions(self) -> dict[Path, Location]:
        return self._unpacked()[0]

    @property
    def key_positions(self) -> dict[Path, Location]:
        return self._unpacked()[1]

    @property
    def scalar_styles(self) -> dict[Path, str | None]:
        return self._unpacked()[2]

    def __getstate__(self) -> dict:
        packed = self._packed if self._maps is None else pickle.dumps(self._maps, protocol=pickle.HIGHEST_PROTOCOL)
        return {"file": self.file, "_packed": packed}

    def __setstate__(self, state: dict) -> None:
        self.file, self._packed, self._maps = state["file"], state["_packed"], None

    def __eq__(self, other) -> bool:
        return isinstance(other, SourceMap) and (self.file, self._unpacked()) == (other.file, other._unpacked())

    __hash__ = None  # mutable, as the dataclass it was

    def __repr__(self) -> str:
        return f"SourceMap(file={self.file!r}, {len(self.positions)} positions)"

    def at(self, path: Path, key: bool = False) -> Location:
        """Location of the value at path, or of its nearest written ancestor."""
        table = self.key_positions if key else self.positions
        p = tuple(path)
        while p:
            if p in table:
                return table[p]
            if p in self.positions:
                return self.positions[p]
            p = p[:-1]
        return self.positions.get((), Location(self.file, 1, 1))

    def inside(self, path: Path, line: int, col: int) -> Location:
        """Location of (line, col) inside the string scalar at path (both 1-based)."""
        base = self.at(path)
        style = self.scalar_styles.get(tuple(path))
        if style in ("|", ">"):
            return Location(self.file, base.line + line, col + 2)
        quote = 1 if style in ('"', "'") else 0
        if line == 1:
            return Location(self.file, base.line, base.col + quote + col - 1)
        return Location(self.file, base.line + line - 1, col)


class SourceError(Exception):
    """A file that cannot be read as policy text; carries the located problem."""

    def __init__(self, problem: Problem):
        self.problem = problem
        super().__init__(str(problem))


def read_source(path: FilePath, file: str | None = None) -> bytes:
    """The bytes of a regular file of at most MAX_FILE_BYTES, or SourceError.

    A FIFO would block forever and a link to /dev/zero never ends, so anything but a
    regular file (symlinks resolved) is refused before it is opened, and no more than
    MAX_FILE_BYTES + 1 bytes are ever read.
    """
    file = file or str(path)
    where = Location(file, 1, 1)
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise SourceError(Problem(where, "not a regular file"))
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        with os.fdopen(fd, "rb") as fh:
            info = os.fstat(fh.fileno())  # the file opened may not be the one stat()ed
            if not stat.S_ISREG(info.st_mode):
                raise SourceError(Problem(where, "not a regular file"))
            if info.st_size > MAX_FILE_BYTES:
                raise SourceError(Problem(where, _too_big(info.st_size)))
            raw = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise SourceError(Problem(where, f"cannot read file: {exc.strerror or exc}")) from None
    if len(raw) > MAX_FILE_BYTES:
        raise SourceError(Problem(where, _too_big(len(raw))))
    return raw


def _too_big(size: int) -> str:
    return f"file too large: {size:,} bytes, the limit is {MAX_FILE_BYTES:,}"


def decode(raw: bytes, file: str) -> str:
    """UTF-8 text of raw, or SourceError at the line and column of the first bad byte."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        at = exc.start
        line_start = raw.rfind(b"\n", 0, at) + 1
        col = len(raw[line_start:at].decode("utf-8", errors="replace")) + 1
        raise SourceError(Problem(Location(file, raw.count(b"\n", 0, at) + 1, col),
                                  f"not UTF-8 text (byte 0x{raw[at]:02x} at offset {at})")) from None
