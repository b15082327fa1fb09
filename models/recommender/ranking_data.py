"""Reading and validating the ranker's training channels (headerless CSV: label,group_id,f_1..f_N).

Every problem is reported as one line naming the channel file, the line and what was expected (README.md, "Data
contract"). Parsing uses numpy's C reader; the slow line-by-line scan runs only to explain a failure.
"""

from __future__ import annotations

import gzip
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np

from ranking_contract import LABEL_MEANING, MAX_GROUP_ID, MAX_LABEL, MIN_LABEL, parse_number, shown

LEADING_COLUMNS = 2  # label, group_id
# Side files that S3 prefixes commonly hold next to data (Athena's .metadata, manifests, Spark's _SUCCESS).
IGNORED_SUFFIXES = (".metadata", ".manifest")


class DataError(ValueError):
    """A channel that breaks the data contract; the message is one line."""


class EmptyChannel(DataError):
    """A channel folder without data files (a host may get none of the shards in distributed training)."""


@dataclass
class ChannelData:
    """One channel's rows, ordered by group id, with the group sizes XGBoost's ``set_group`` needs."""

    name: str
    features: np.ndarray
    labels: np.ndarray
    group_ids: np.ndarray
    group_sizes: np.ndarray
    files: List[str]
    group_locations: Dict[int, str] = field(repr=False, default_factory=dict)

    @property
    def rows(self) -> int:
        return int(self.labels.shape[0])

    @property
    def groups(self) -> int:
        return int(self.group_sizes.shape[0])

    def groups_without_positive(self) -> int:
        """Groups whose labels are all 0: they give a ranking objective no pair to learn from."""
        starts = np.concatenate(([0], np.cumsum(self.group_sizes)[:-1])).astype(np.int64)
        return int(np.count_nonzero(np.maximum.reduceat(self.labels, starts) == 0)) if self.groups else 0

    def label_counts(self) -> Dict[str, int]:
        values, counts = np.unique(self.labels.astype(np.int64), return_counts=True)
        return {str(int(v)): int(c) for v, c in zip(values, counts)}

    def summary(self) -> Dict[str, object]:
        return {
            "rows": self.rows,
            "groups": self.groups,
            "files": len(self.files),
            "groups_without_positive": self.groups_without_positive(),
            "label_counts": self.label_counts(),
        }


def channel_files(directory: Path) -> List[Path]:
    """The data files of a channel folder, recursively, in name order (shards), skipping side files."""
    if not directory.is_dir():
        return []
    files = []
    for path in sorted(directory.rglob("*")):
        name = path.name
        if not path.is_file() or name.startswith((".", "_")) or name.endswith(IGNORED_SUFFIXES):
            continue
        files.append(path)
    return files


def read_text(path: Path) -> str:
    """A file's text; gzip files (Athena UNLOAD's default compression) are recognised by their magic bytes."""
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    try:
        return raw.decode("utf-8").replace("\r\n", "\n")
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: not UTF-8 text (byte {error.start}); expected headerless CSV") from None


def _line_count(text: str) -> int:
    if not text:
        return 0
    return text.count("\n") + (0 if text.endswith("\n") else 1)


def explain_csv_problem(text: str, source: str, expected_columns: int, num_features: int) -> str:
    """The first line of ``text`` that breaks the CSV contract, described in one line."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            return f"{source} line {number} is empty; every line must hold label,group_id and {num_features} features"
        fields = line.split(",")
        if len(fields) != expected_columns:
            return (
                f"{source} line {number} has {len(fields)} columns; expected {expected_columns} "
                f"(label, group_id and num_features={num_features} features)"
            )
        for column, value in enumerate(fields, start=1):
            if parse_number(value) is None:
                return (
                    f"{source} line {number} column {column}: {shown(value)} is not a finite number "
                    f"(headerless CSV of numbers; no header row, no empty or NaN values)"
                )
    return f"{source}: could not be parsed as headerless CSV of {expected_columns} numeric columns"


def parse_table(text: str, source: str, num_features: int) -> np.ndarray:
    """The rows of one CSV text as a float64 matrix of exactly 2 + num_features columns."""
    expected = LEADING_COLUMNS + num_features
    lines = _line_count(text)
    if lines == 0:
        return np.empty((0, expected))
    try:
        table = np.loadtxt(io.StringIO(text), delimiter=",", dtype=np.float64, ndmin=2, comments=None)
    except ValueError:
        table = None
    if table is None or table.shape != (lines, expected) or not np.isfinite(table).all():
        raise DataError(explain_csv_problem(text, source, expected, num_features))
    return table


def _first_bad_row(mask: np.ndarray) -> Optional[int]:
    bad = np.flatnonzero(mask)
    return int(bad[0]) if bad.size else None


def _check_labels_and_ids(table: np.ndarray, source: str) -> None:
    labels, ids = table[:, 0], table[:, 1]
    row = _first_bad_row((labels != np.round(labels)) | (labels < MIN_LABEL) | (labels > MAX_LABEL))
    if row is not None:
        raise DataError(
            f"{source} line {row + 1}: label {labels[row]:g} is not allowed; labels are integers "
            f"{MIN_LABEL}..{MAX_LABEL} ({LABEL_MEANING})"
        )
    row = _first_bad_row((ids != np.round(ids)) | (ids < 0) | (ids >= MAX_GROUP_ID))
    if row is not None:
        raise DataError(
            f"{source} line {row + 1}: group_id {ids[row]:g} is not allowed; group ids are integers in [0, 2^53)"
        )


def _runs(ids: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Start rows and lengths of the runs of equal consecutive group ids."""
    starts = np.flatnonzero(np.concatenate(([True], ids[1:] != ids[:-1])))
    lengths = np.diff(np.concatenate((starts, [ids.shape[0]])))
    return starts, lengths


def read_channel(name: str, directory: Path, num_features: int, root: Optional[Path] = None) -> ChannelData:
    """Read every data file of a channel and gather each group's rows, wherever they are.

    Athena's ``UNLOAD`` writes a channel as several files, in no guaranteed order, and may cut a group (a request)
    between two of them: the rows are ordered by group id (stably, so a group keeps its rows' order) before the
    group sizes are counted.
    """
    files = channel_files(directory)
    if not files:
        raise EmptyChannel(
            f"channel '{name}' has no data files in {directory}; expected headerless CSV files "
            f"(label,group_id,f_1..f_{num_features})"
        )
    tables: List[np.ndarray] = []
    first_places: Dict[int, str] = {}
    for path in files:
        source = f"{name}/{path.relative_to(root or directory)}"
        table = parse_table(read_text(path), source, num_features)
        if table.shape[0] == 0:
            continue
        _check_labels_and_ids(table, source)
        starts, _ = _runs(table[:, 1])
        for group, start in zip(table[starts, 1].astype(np.int64).tolist(), starts.tolist()):
            first_places.setdefault(group, f"{source} line {int(start) + 1}")
        tables.append(table)
    if not tables:
        raise DataError(f"channel '{name}' has only empty files in {directory}; expected at least one row")
    table = np.concatenate(tables)
    table = table[np.argsort(table[:, 1], kind="stable")]
    starts, lengths = _runs(table[:, 1])
    ids = table[starts, 1].astype(np.int64)
    return ChannelData(
        name=name,
        features=table[:, LEADING_COLUMNS:].astype(np.float32),
        labels=table[:, 0].astype(np.float32),
        group_ids=ids,
        group_sizes=lengths.astype(np.int64),
        files=[str(p.relative_to(root or directory)) for p in files],
        group_locations={group: first_places[group] for group in ids.tolist()},
    )


def check_disjoint(first: ChannelData, second: ChannelData) -> None:
    """No request may be in two channels (a time-based split keeps each request on one side)."""
    shared = np.intersect1d(first.group_ids, second.group_ids)
    if shared.size:
        group = int(shared[0])
        raise DataError(
            f"group {group} is in both channels: {first.group_locations[group]} and "
            f"{second.group_locations[group]}; a request must be on one side of the split "
            f"({shared.size} shared groups)"
        )
