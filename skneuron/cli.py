"""Command line: ``skneuron demo|fit|predict|inspect`` (also ``python -m skneuron ...``).

- ``skneuron demo``: discover formulas on bundled data, compare with sklearn's MLP.
- ``skneuron fit DATA --target COL``: fit a model on a CSV or Parquet table
  (categorical columns one-hot encoded), print its formula and a
  cross-validated score, save it as a safe model file.
- ``skneuron predict MODEL DATA``: predictions as CSV.
- With ``--chunk-rows N`` both stream the table ``N`` rows at a time, so a
  file larger than memory fits (``partial_fit``, ``--epochs`` passes over the
  file) and predicts (the output written chunk by chunk).
- ``skneuron inspect MODEL``: formula, parameters, versions, training curve.

Mistakes (a missing file or column, a text target for regression, a bad
parameter, a damaged model file, an output that cannot be written) end with a
one-line message on standard error and exit status 1, never a traceback; set
``SKNEURON_TRACEBACK=1`` to see one anyway. Warnings are one line each too
(``skneuron fit: warning: ...``). Where an output goes is checked
before a long fit, and every file is written whole or not at all. Ctrl-C
stops the whole command (exit status 130), also in the middle of training,
and writes nothing.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import io
import itertools
import json
import os
import re
import shlex
import signal
import sys
import tempfile
import time
import warnings
from collections.abc import Mapping, Sequence
from typing import NamedTuple

__all__ = ["UsageError", "main"]

#: Integer targets with at most this many distinct values count as classes (``--task auto``).
MAX_AUTO_CLASSES = 20
#: Longest strptime pattern a model file's ``dates`` may give a column (``fit`` writes ~20).
MAX_DATE_FORMAT_LENGTH = 64


class UsageError(Exception):
    """A mistake in what the user asked for: reported in one line, exit status 1.

    Raised by the commands for a missing column, a target of the wrong kind,
    a ``--param`` the estimator does not take, and the like; :func:`main`
    prints it as ``skneuron <command>: error: <message>``.

    Examples
    --------
    >>> raise UsageError("column 'price' is not in data.csv")
    Traceback (most recent call last):
    ...
    skneuron.cli.UsageError: column 'price' is not in data.csv
    """


#: Set by the SIGINT handler of :func:`main`: the training loop catches Ctrl-C to
#: keep its weights, so the command checks this after each fit.
_interrupted = False


def _note_interrupt(signum, frame):
    global _interrupted
    _interrupted = True
    signal.default_int_handler(signum, frame)


def _stop_if_interrupted() -> None:
    """Raise KeyboardInterrupt if Ctrl-C was pressed, even if a fit caught it."""
    if _interrupted:
        raise KeyboardInterrupt


@contextlib.contextmanager
def _interrupts_noted():
    global _interrupted
    _interrupted = False
    try:
        previous = signal.signal(signal.SIGINT, _note_interrupt)
    except ValueError:  # not the main thread: signals are not ours to handle
        previous = None
    try:
        yield
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


# ------------------------------------------------------------------------ text
#: Characters a terminal acts on instead of showing: C0 and C1 controls (escape sequences,
#: carriage return, newline), DEL, the line and paragraph separators, and the bidi marks,
#: embeddings, overrides and isolates that reorder what follows (U+202E shows text backwards).
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def _printable(text) -> str:
    r"""``text`` with every character a terminal would act on escaped as ``repr`` escapes it.

    Model files and tables come from others: a class label, a column name or a
    version holding ``ESC ]0;...`` or ``ESC [2J`` retitles or clears the
    terminal, a newline forges a line of output, U+202E shows what follows
    reversed. Each such character (see ``_UNPRINTABLE``) becomes its escape:
    ``\x1b``, ``\n``, ``\u202e``; other text, ``²`` or ``→`` included, is
    unchanged. The result holds none of them, so escaping twice changes nothing.

    Examples
    --------
    >>> print(_printable("y\x1b[2J\u202e\nR²"))
    y\x1b[2J\u202e\nR²
    """
    return _UNPRINTABLE.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"),
                            str(text))


def _printable_json(value) -> str:
    """``value`` as indented JSON in which no character a terminal acts on is left raw.

    JSON escapes the C0 controls in strings itself; DEL, the C1 controls and the
    bidi controls are written as ``\\uXXXX`` escapes, which read back as the same
    text. (Outside strings JSON text is ASCII, and its only control character
    is the newline of the indentation, which stays.)
    """
    return _UNPRINTABLE.sub(
        lambda match: "\n" if match.group() == "\n" else f"\\u{ord(match.group()):04x}",
        json.dumps(value, indent=2, ensure_ascii=False))


#: First characters that make a spreadsheet read a cell as a formula (OWASP's list).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: Text a spreadsheet reads as a number, not a formula, although it may start with + or -.
_NUMBER_TEXT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _spreadsheet_text(value):
    """``value`` as a CSV cell a spreadsheet shows as text, not runs as a formula.

    Text starting with ``= + - @``, a tab or a carriage return gets a leading
    ``'`` (as OWASP recommends against CSV injection), unless it is a number
    such as ``-1.5``; anything but text, numbers included, is returned as it is.

    Examples
    --------
    >>> _spreadsheet_text("=1+cmd|' /C calc'!A0"), _spreadsheet_text("-1"), _spreadsheet_text(-1)
    ("'=1+cmd|' /C calc'!A0", '-1', -1)
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START) \
            and not _NUMBER_TEXT.fullmatch(value):
        return "'" + value
    return value


def _demo_tasks():
    """Bundled or generated data sets, so the demo needs no download."""
    from sklearn.datasets import load_breast_cancer, load_diabetes, make_friedman1

    X, y = make_friedman1(n_samples=2000, noise=0.5, random_state=0)
    yield "friedman1 (2000 × 10)", "regression", X, y
    yield "diabetes", "regression", *load_diabetes(return_X_y=True)
    yield "breast_cancer", "classification", *load_breast_cancer(return_X_y=True)


def _demo_rivals(task: str, seed: int) -> list:
    """The rivals a careful user would try, each at its defaults made fair.

    sklearn's MLP gets the same two hidden layers of 64, early stopping,
    standardised inputs and, for regression, a standardised target (without
    it, it fails on targets in the hundreds, e.g. diabetes);
    HistGradientBoosting is the gradient-boosting baseline.
    """
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    regression = task == "regression"
    mlp = (MLPRegressor if regression else MLPClassifier)(
        hidden_layer_sizes=(64, 64), early_stopping=True, random_state=seed)
    if regression:
        mlp = TransformedTargetRegressor(mlp, transformer=StandardScaler())
    boosting = (HistGradientBoostingRegressor if regression
                else HistGradientBoostingClassifier)(random_state=seed)
    return [("sklearn MLP", make_pipeline(StandardScaler(), mlp)),
            ("HistGradientBoosting", boosting)]


def run_demo(seed: int = 0, out=None) -> list[dict]:
    """Fit the default task-neuron estimator and its fair rivals on each demo task.

    The rivals are :func:`_demo_rivals`. Prints each discovered formula and a
    score/time table to ``out`` (standard output by default); returns the rows.
    """
    out = out or sys.stdout
    from sklearn.model_selection import train_test_split

    from skneuron import TaskNeuronClassifier, TaskNeuronRegressor

    rows = []
    for name, task, X, y in _demo_tasks():
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.25, random_state=seed,
            stratify=y if task == "classification" else None,
        )
        ours = (TaskNeuronRegressor if task == "regression" else TaskNeuronClassifier)(random_state=seed)
        print(f"\n{name}: {task}, {len(X_train)} training rows", file=out)
        for label, model in [("TaskNeuron", ours), *_demo_rivals(task, seed)]:
            with _quiet_training():
                start = time.perf_counter()
                model.fit(X_train, y_train)
                seconds = time.perf_counter() - start
            _stop_if_interrupted()
            score = model.score(X_test, y_test)
            rows.append({"data": name, "task": task, "model": label, "score": score, "fit_s": seconds})
        print(f"  discovered formula: {ours.formula_}", file=out)
        print(f"  (terms {', '.join(ours.formula_.terms)}; discovery "
              f"{ours.discovery_.fit_time:.2f} s)", file=out)

    print("\n| data | model | test score | fit time (s) |\n|---|---|---|---|", file=out)
    for row in rows:
        print(f"| {row['data']} | {row['model']} | {_METRICS[row['task']]} {row['score']:.3f} | "
              f"{row['fit_s']:.2f} |", file=out)
    return rows


# ------------------------------------------------------------------------ data
def _parquet(path: str) -> bool:
    return path.lower().endswith((".parquet", ".pq"))


@contextlib.contextmanager
def _reading(path: str):
    """Refuse a ``path`` that is not a file, and report a failure to read it in one line."""
    if not os.path.isfile(path):
        raise UsageError(f"no such file: {path}")
    try:
        yield
    except ImportError as exc:
        raise UsageError(f"reading {path} needs a Parquet engine ({exc.name or 'pyarrow'}): "
                         "pip install pyarrow") from None
    except (ValueError, UnicodeDecodeError, OSError) as exc:
        raise UsageError(f"cannot read {path}: {_one_line(exc)}") from None


def read_table(path: str):
    """A CSV file, or a Parquet file (``.parquet``/``.pq``, needs pyarrow), as a data frame."""
    import pandas as pd
    with _reading(path):
        return pd.read_parquet(path) if _parquet(path) else pd.read_csv(path)


def iter_table(path: str, chunk_rows: int, columns: Sequence[str] | None = None,
               text_columns: Sequence[str] = ()):
    """The table at ``path`` as data frames of at most ``chunk_rows`` rows, in file order.

    A CSV file is read with ``pandas.read_csv(chunksize=...)``, ``text_columns``
    as text (see :func:`scan_csv`), a Parquet file (``.parquet``/``.pq``)
    with ``pyarrow.parquet.ParquetFile.iter_batches``; only ``columns`` (all
    when None) are read. Memory holds one chunk at a time.
    """
    import pandas as pd
    with _reading(path):
        if _parquet(path):
            import pyarrow.parquet as pq

            # pre_buffer (pyarrow's default) keeps every row group it has read in the
            # reader's cache, so the memory a stream holds would grow with the file.
            with pq.ParquetFile(path, pre_buffer=False) as table:
                for batch in table.iter_batches(batch_size=chunk_rows, columns=columns):
                    yield batch.to_pandas()
        else:
            dtype = {column: str for column in text_columns
                     if columns is None or column in columns} or None
            with pd.read_csv(path, chunksize=chunk_rows, usecols=columns, dtype=dtype) as reader:
                yield from reader


class CsvScan(NamedTuple):
    """What :func:`scan_csv` learns in its one pass over a table."""

    #: The columns that hold text in any chunk, which :func:`iter_table` reads as text.
    text_columns: list
    #: The target's distinct values as :func:`iter_table` reads them with ``text_columns``;
    #: None when the pass could not tell them (see :func:`scan_csv`).
    labels: set | None
    #: The rows with a value in the target (None when no pass was made).
    n_rows: int | None


def scan_csv(path: str, chunk_rows: int, target: str | None = None,
             max_labels: int = 0) -> CsvScan:
    """One pass over the CSV file at ``path``, ``chunk_rows`` rows at a time: the columns
    that hold text in any chunk, and the ``target`` column's labels and rows.

    pandas guesses each chunk's column types on its own: codes ``1, 2, 3`` in
    the first chunks and ``none`` in a later one are numbers in some chunks
    and text in others, which a model fitted on the first chunk cannot read
    (and class labels that mix numbers and text). Read as a whole, such a
    column is text throughout; :func:`iter_table` reads these columns as
    text in every chunk to the same effect.

    The same pass collects the target's distinct values, which a streaming
    classification needs before its first ``partial_fit``, up to
    ``max_labels`` of them (none by default), and counts the rows that have
    one. ``labels`` is None when there were more, or when the target turned to
    text after chunks that read it as numbers: their text as written (``01``
    read as 1) is then lost, and the caller reads the labels in a pass of
    their own. A Parquet file stores its types: no pass is made for it
    (no text columns, no labels).
    """
    if _parquet(path):
        return CsvScan([], None, None)
    import pandas as pd

    text: list = []
    labels: set | None = set() if target is not None and max_labels > 0 else None
    numbers_seen = False  # a chunk read target values as numbers, not as their text
    n_rows = 0
    for chunk in iter_table(path, chunk_rows):
        # Each column's kind once per chunk (the target's also when it is known as text).
        kinds = {column: pd.api.types.infer_dtype(chunk[column], skipna=True)
                 for column in chunk.columns if column not in text or column == target}
        text += [column for column, kind in kinds.items()
                 if kind == "string" and column not in text]
        if target in chunk.columns:
            values = chunk[target].dropna()
            n_rows += len(values)
            if labels is not None and len(values):
                numbers_seen |= kinds[target] != "string"
                labels.update(values.unique().tolist())
                if len(labels) > max_labels:
                    labels = None
        _stop_if_interrupted()
    if target in text and numbers_seen:
        labels = None
    return CsvScan(text, labels, n_rows)


def table_columns(path: str) -> list:
    """The column names of a table, read from its header (CSV) or schema (Parquet)."""
    import pandas as pd
    with _reading(path):
        if _parquet(path):
            import pyarrow.parquet as pq

            return list(pq.read_schema(path).names)
        return list(pd.read_csv(path, nrows=0).columns)


class DateReader:
    """Reads the ``--date`` columns of tables as date-times (UTC), each in one format.

    A CSV file holds dates as text, which the estimator would read as one
    category per date; as date-times it reads them as seconds since
    1970-01-01 UTC. A column's format is fixed by the first table that has a
    value in it: ISO 8601 (``2024-01-31``, ``2024-01-31 10:00``,
    ``2024-01-31T10:00+02:00``, mixed freely) when all its text reads so,
    else the one format pandas infers from its first value (``31/01/2024``
    is day first; ``01/31/2024`` month first, and so is an ambiguous
    ``05/02/2024`` unless only day first reads the whole column). Every
    later table — the next chunk, the rows to predict — is read in that
    format, and text that does not fit it is refused, so that ``05/02/2024``
    cannot be the 5th of February in one chunk and the 2nd of May in the
    next. An offset such as ``+02:00`` is honoured, a time without
    one is taken as UTC; empty cells are missing values.

    Columns already of a date-time type (Parquet timestamps) pass unchanged
    in value; a column of numbers is refused (pandas would read them as
    nanoseconds). A column a table lacks is left to the caller.

    Parameters
    ----------
    columns : sequence of str
        The columns to read as dates.
    source : str
        The file the tables come from, named in errors.
    formats : mapping of str to str or None, optional
        Formats known already (a model file's ``dates``): ``"ISO8601"`` or a
        :func:`~datetime.datetime.strptime` pattern; None for a column to
        infer.

    Attributes
    ----------
    formats : dict of str to str or None
        Each column's format, None while no table has had a value in it.

    Examples
    --------
    >>> import pandas as pd
    >>> read = DateReader(["sold"], "houses.csv")
    >>> read(pd.DataFrame({"sold": ["31/01/2024", None]}))["sold"].tolist()
    [Timestamp('2024-01-31 00:00:00+0000', tz='UTC'), NaT]
    >>> read.formats
    {'sold': '%d/%m/%Y'}
    >>> read(pd.DataFrame({"sold": ["05/02/2024"]}))["sold"].dt.month.tolist()
    [2]
    >>> later = DateReader(["sold"], "houses.csv")
    >>> later(pd.DataFrame({"sold": [float("nan")]}))["sold"].tolist(), later.formats
    ([NaT], {'sold': None})
    """

    def __init__(self, columns: Sequence[str], source: str,
                 formats: Mapping[str, str | None] | None = None):
        self.source = source
        self.formats = {column: (formats or {}).get(column) for column in columns}

    def __call__(self, frame):
        """``frame`` with each of the columns it holds read as date-times."""
        present = [column for column in self.formats if column in frame.columns]
        if not present:
            return frame
        frame = frame.copy()
        for column in present:
            frame[column] = self._read(frame[column], column)
        return frame

    def _read(self, values, column: str):
        import pandas as pd
        if values.isna().all():  # an empty column reads as numbers: no date, no format yet
            return pd.to_datetime(values.astype(object), utc=True)
        if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            raise UsageError(f"column {column!r} of {self.source} holds numbers, not dates; "
                             "--date is for text such as 2024-01-31")
        if pd.api.types.is_datetime64_any_dtype(values):  # with or without a time zone
            return pd.to_datetime(values, utc=True)
        if self.formats[column] is None:
            self.formats[column] = self._infer_format(values, column)
        date_format = self.formats[column]
        # re.error is a format pandas cannot compile (a directive twice, "%d%d"). The command
        # line passes none (fit's formats are guessed, each directive once; a model file's
        # must pass _is_date_format), but a DateReader given its formats directly may.
        try:
            return pd.to_datetime(values, utc=True, format=date_format)
        except (ValueError, TypeError, OverflowError, re.error) as exc:
            # pandas goes on with advice on its own arguments: not the user's to pass
            reason = _one_line(exc).split(". You might want", 1)[0]
            raise UsageError(f"cannot read column {column!r} of {self.source} as dates "
                             f"in the format {date_format}: {reason}") from None

    def _infer_format(self, values, column: str) -> str | None:
        """ISO 8601 if every value reads so, else the format pandas infers from the first
        value — month first, or day first when only that reads every value; None when the
        column has no value yet."""
        import pandas as pd
        from pandas.tseries.api import guess_datetime_format

        given = values.dropna()
        if given.empty:
            return None
        candidates = ["ISO8601"]
        with warnings.catch_warnings():  # "Parsing dates in %d/%m/%Y format when dayfirst=False"
            warnings.simplefilter("ignore", UserWarning)
            for day_first in (False, True):
                guessed = guess_datetime_format(str(given.iloc[0]), dayfirst=day_first)
                if guessed is not None and guessed not in candidates:
                    candidates.append(guessed)
        if len(candidates) == 1:
            raise UsageError(f"cannot read column {column!r} of {self.source} as dates: no date "
                             f"format fits its first value {given.iloc[0]!r}")
        for candidate in candidates:  # a guess repeats no directive: pandas compiles it
            try:
                pd.to_datetime(given, utc=True, format=candidate)
                return candidate
            except (ValueError, TypeError, OverflowError):
                pass
        return candidates[1]  # fits no value but the first: _read says where it fails


def _no_column(column, path: str, columns, option: str = "") -> UsageError:
    """The error for a ``column`` that the table at ``path`` lacks, listing its ``columns``."""
    listed = ", ".join(map(str, list(columns)[:20]))  # main escapes the message
    return UsageError(f"{option}no column {column!r} in {path} (columns: {listed})")


def _date_columns(args, columns) -> list[str]:
    """The ``--date`` columns of ``fit``, checked against the table's ``columns``
    (and the target's presence with them)."""
    if args.target not in columns:
        raise _no_column(args.target, args.data, columns)
    dates = list(dict.fromkeys(args.date or []))
    if args.target in dates:
        raise UsageError(f"--date {args.target!r} names the target; dates are read as inputs only")
    for column in dates:
        if column not in columns:
            raise _no_column(column, args.data, columns, option="--date: ")
    return dates


def check_output_path(path: str) -> None:
    """Refuse, before any long work, an output path that cannot be written.

    The path must not be a directory or a special file (such as
    ``/dev/full``), and its directory must exist and be writable.
    """
    if os.path.isdir(path):
        raise UsageError(f"cannot write {path}: it is a directory")
    if os.path.exists(path) and not os.path.isfile(path):
        raise UsageError(f"cannot write {path}: not a regular file")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise UsageError(f"cannot write {path}: no such directory {os.path.dirname(path)}")
    try:
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {_one_line(exc)}") from None


def _write_output(path: str, data: bytes) -> None:
    from skneuron.persistence import write_atomically

    write_atomically(path, lambda handle: handle.write(data))


def resolve_task(y, task: str, target: str) -> str:
    """``"regression"`` or ``"classification"`` for the target column ``y``.

    ``"auto"`` means classification for text, boolean and categorical targets
    and for integers with at most :data:`MAX_AUTO_CLASSES` distinct values,
    regression otherwise.
    """
    import pandas as pd

    numeric = pd.api.types.is_numeric_dtype(y) and not pd.api.types.is_bool_dtype(y)
    if task == "regression" and not numeric:
        example = next((v for v in y if not _reads_as_number(v)), y.iloc[0])
        raise UsageError(f"target column {target!r} is not numeric (it holds {example!r}), so it "
                         "cannot be a regression target; use --task classification")
    if task != "auto":
        return task
    if not numeric:
        _refuse_unlikely_labels(y, target)
        return "classification"
    integral = bool((y == y.round()).all())
    return "classification" if integral and y.nunique() <= MAX_AUTO_CLASSES else "regression"


def _refuse_unlikely_labels(y, target: str) -> None:
    """Refuse to guess that a text target of more than :data:`MAX_AUTO_CLASSES` distinct
    values is class labels when it is not: many distinct numbers and a few other values (a
    ``?`` for an unknown price) are a regression target with dirt in it; more distinct
    values than half the rows are a name, an identifier or free text, whose classes would
    cost a network output each, and a one-hot target of rows × classes values."""
    values = y.dropna()
    n_distinct = values.nunique()
    if n_distinct <= MAX_AUTO_CLASSES:
        return
    stray = ~values.map(_reads_as_number).astype(bool)
    if 0 < stray.sum() <= 0.1 * len(values):
        raise UsageError(
            f"target column {target!r} holds numbers except for {int(stray.sum())} value(s) "
            f"such as {values[stray].iloc[0]!r}; fix or drop those rows, or choose the task "
            "with --task")
    if n_distinct > len(values) / 2:
        raise UsageError(
            f"target column {target!r} holds {n_distinct:,} distinct values in {len(values):,} "
            "rows: an identifier or free text rather than class labels; choose another "
            "target, or --task classification to fit it as classes anyway")


def _reads_as_number(value) -> bool:
    """Whether ``float()`` reads ``value``: a number, or text such as ``"1.5"`` or ``"nan"``."""
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def parse_params(pairs: Sequence[str], estimator_class) -> dict:
    """``["max_iter=50", "formula=x + x**2"]`` → keyword arguments, checked by name.

    Values are read as Python literals (numbers, tuples, ``None``, …) where
    they are one, and as text otherwise.
    """
    known = estimator_class().get_params(deep=False)
    params = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"--param takes key=value; got {pair!r}")
        if key not in known:
            raise UsageError(f"unknown parameter {key!r} of {estimator_class.__name__}; "
                             f"known: {', '.join(sorted(known))}")
        try:
            params[key] = ast.literal_eval(text.strip())
        except (ValueError, SyntaxError):
            params[key] = text.strip()
    return params


# -------------------------------------------------------------------- progress
@contextlib.contextmanager
def progress(description: str, total: int, enabled: bool | None = None):
    """A progress bar over the epochs of the fits in this context (tqdm, on standard error).

    ``enabled=None`` shows it on a terminal only, and only once a fit has
    taken half a second; without tqdm nothing is shown.
    """
    bar = _bar(enabled, total=total, desc=description, unit="epoch")
    if bar is None:
        yield
        return
    from skneuron.training import observe_epochs

    def update(report):
        bar.update(1)
        bar.set_postfix(loss=f"{report.loss:.4g}", refresh=False)

    try:
        with observe_epochs(update):
            yield
    finally:
        bar.close()


def _bar(enabled: bool | None, **options):
    """A tqdm bar on standard error, or None without tqdm or when ``enabled`` is False.

    ``enabled=None`` shows it on a terminal only, once it has run half a second.
    """
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    if enabled is False:
        return None
    return tqdm(leave=False, file=sys.stderr, disable=None if enabled is None else False,
                delay=0.5 if enabled is None else 0, **options)


# ---------------------------------------------------------------------- fit
#: The score ``fit`` cross-validates and records, by task (the estimators' ``score``).
_METRICS = {"classification": "accuracy", "regression": "R²"}


def _new_model(task: str, args):
    """The unfitted estimator of ``task`` that ``fit`` trains: ``--seed`` and ``--param``."""
    from skneuron import TaskNeuronClassifier, TaskNeuronRegressor

    cls = TaskNeuronClassifier if task == "classification" else TaskNeuronRegressor
    return cls(**{"random_state": args.seed, **parse_params(args.param or [], cls)})


def _target_values(y, task: str):
    """The target column ``y`` as an array to fit: class labels as they are, floats for a
    regression."""
    return y.to_numpy() if task == "classification" else y.astype(float).to_numpy()


def _task_line(task: str, target: str, n_classes: int) -> str:
    """``fit``'s line on what it fits: ``n_classes`` counts for a classification only."""
    if task == "classification":
        return f"task: classification of {target!r} ({n_classes} classes)"
    return f"task: regression of {target!r}"


@contextlib.contextmanager
def _quiet_training():
    """Silence the warnings of training that are no news on the command line: a
    ``ConvergenceWarning`` (stopping at ``max_iter``, which ``--param`` sets, is a budget
    spent, not a fault), and "Training interrupted ... keeping the best weights": Ctrl-C
    stops the whole command (exit 130)."""
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", "Training interrupted", UserWarning)
        yield


def _metadata(args, task: str, n_rows: int, read_dates: DateReader, cv_scores=(),
              **streaming) -> dict:
    """The metadata ``fit`` saves with the model: ``inspect`` shows it, ``predict`` reads the
    target column's name and the date formats (see :func:`_fit_metadata`); ``streaming``
    adds ``--chunk-rows`` and ``--epochs``."""
    import numpy as np

    return {
        "target": str(args.target), "task": task, "data": os.path.basename(args.data),
        "n_rows": int(n_rows), "metric": _METRICS[task], "cv_scores": list(cv_scores),
        "cv_score": float(np.mean(cv_scores)) if cv_scores else None, **streaming,
        "dates": read_dates.formats,
    }


def _report_and_save(model, args, metadata: dict, out, fitted: str) -> dict:
    """Print the trained ``model``'s formula and ``fitted`` (how the training went), save it
    to ``--out`` with ``metadata`` and say so; returns ``metadata``. A model whose training
    Ctrl-C cut short is neither shown nor saved."""
    from skneuron.persistence import save

    _stop_if_interrupted()
    print(f"formula: {model.formula_}", file=out)
    print(f"  terms: {', '.join(model.formula_.terms)}", file=out)
    print(fitted, file=out)
    save(model, args.out, metadata=metadata)
    print(f"saved {args.out}", file=out)
    return metadata


def run_fit(args, out=None) -> dict:
    """``skneuron fit``: returns the metadata saved with the model."""
    import numpy as np
    from sklearn.base import clone
    from sklearn.model_selection import KFold, StratifiedKFold

    from skneuron._tabular import as_table, categorical_mask

    out = out or sys.stdout
    check_output_path(args.out)
    if args.chunk_rows is not None:
        return run_streaming_fit(args, out)
    if args.epochs is not None:
        raise UsageError("--epochs needs --chunk-rows (without it, --param max_iter=... "
                         "bounds the epochs)")
    frame = read_table(args.data)
    read_dates = DateReader(_date_columns(args, frame.columns), args.data)
    frame = read_dates(frame)
    frame = frame[frame[args.target].notna()]
    if len(frame) < 2:
        raise UsageError(f"{args.data} has fewer than 2 rows with a value in {args.target!r}")
    y, X = frame[args.target], frame.drop(columns=[args.target])
    if X.shape[1] == 0:
        raise UsageError(f"{args.data} has no column besides the target {args.target!r}")
    task = resolve_task(y, args.task, args.target)
    y = _target_values(y, task)
    # The estimator reads the table itself: text columns as categories, gaps as missing.
    model = _new_model(task, args)
    n_categorical = int(categorical_mask(as_table(X), model.categorical_features,
                                         np.asarray(X.columns, dtype=object)).sum())
    print(f"{args.data}: {len(X)} rows, {X.shape[1]} columns"
          + (f" ({n_categorical} categorical)" if n_categorical else ""), file=out)
    for column in _text_dates(X):
        print(f"note: column {column!r} holds text that reads as dates, fitted as categories "
              f"(one per date); --date {shlex.quote(column)} reads it as dates", file=sys.stderr)
    class_counts = np.unique(y, return_counts=True)[1] if task == "classification" else None
    print(_task_line(task, args.target, 0 if class_counts is None else len(class_counts)),
          file=out)

    scores = []
    folds = args.cv
    if folds and class_counts is not None:
        folds = min(folds, int(class_counts.min()))
    with _quiet_training():
        if folds >= 2:
            splitter = (StratifiedKFold if task == "classification" else KFold)(
                folds, shuffle=True, random_state=args.seed)
            for i, (train, test) in enumerate(splitter.split(X, y), start=1):
                fold_model = clone(model)
                with progress(f"fold {i}/{folds}", model.max_iter, args.progress):
                    fold_model.fit(X.iloc[train], y[train])
                _stop_if_interrupted()
                scores.append(float(fold_model.score(X.iloc[test], y[test])))
            print(f"cross-validated {_METRICS[task]}: {np.mean(scores):.4f} ± "
                  f"{np.std(scores):.4f} ({folds} folds)", file=out)
        elif args.cv:
            print("cross-validation skipped: too few rows per class", file=out)
        start = time.perf_counter()
        with progress("fit", model.max_iter, args.progress):
            model.fit(X, y)
        seconds = time.perf_counter() - start
    return _report_and_save(
        model, args, _metadata(args, task, len(X), read_dates, cv_scores=scores), out,
        fitted=f"fitted in {seconds:.1f} s ({model.n_iter_} epochs)")


def _row_bar(description: str, total: int | None, enabled: bool | None):
    """A tqdm bar counting rows, as a context (of None without tqdm or when disabled)."""
    bar = _bar(enabled, total=total, desc=description, unit="rows", unit_scale=True)
    return contextlib.nullcontext(None) if bar is None else bar


#: Values of a text column that :func:`_text_dates` reads.
_DATE_SAMPLE = 200


def _text_dates(frame) -> list[str]:
    """The text columns of ``frame`` whose first :data:`_DATE_SAMPLE` values all read as
    full dates (day, month and year) in the format pandas infers from the first."""
    import pandas as pd
    from pandas.tseries.api import guess_datetime_format

    found = []
    for column in frame.columns:
        values = frame[column]
        if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
            continue
        sample = values.dropna().iloc[:_DATE_SAMPLE]
        if sample.empty or not all(isinstance(v, str) for v in sample):
            continue
        with warnings.catch_warnings():  # "Parsing dates in %d/%m/%Y format when dayfirst=False"
            warnings.simplefilter("ignore", UserWarning)
            guessed = guess_datetime_format(sample.iloc[0]) or ""
        if not ("%d" in guessed and any(m in guessed for m in ("%m", "%b", "%B"))
                and any(y in guessed for y in ("%Y", "%y"))):
            continue
        read = pd.to_datetime(sample, format=guessed, errors="coerce")
        if read.notna().all():
            found.append(str(column))
    return found


def _require_positive_chunk_rows(args) -> None:
    if args.chunk_rows < 1:
        raise UsageError(f"--chunk-rows must be at least 1; got {args.chunk_rows}")


def _target_labels(args, text_columns) -> tuple[set, int]:
    """The target's distinct values and the rows that have one, from a pass over that
    column alone (of a Parquet file, or of a CSV file whose scan could not tell them)."""
    labels, n_rows = set(), 0
    for chunk in iter_table(args.data, args.chunk_rows, columns=[args.target],
                            text_columns=text_columns):
        target = chunk[args.target].dropna()
        labels.update(target.unique().tolist())
        n_rows += len(target)
        _stop_if_interrupted()
    return labels, n_rows


def run_streaming_fit(args, out) -> dict:
    """``skneuron fit --chunk-rows N``: ``partial_fit`` over the file, ``--epochs`` times.

    Memory holds one chunk of rows: the file is read ``--chunk-rows`` rows at
    a time and each chunk is one ``partial_fit`` call. Before training, one
    pass over a CSV file (:func:`scan_csv`) finds the columns that hold text
    in any chunk, read as text in all, and the target's labels, which
    ``partial_fit`` needs up front for a classification. A Parquet file
    stores its types and needs no such pass, but its labels are read in one
    over the target column alone, as are a CSV file's where the scan could
    not tell them. The first chunk decides the task (``--task auto``), the
    formula and the input and target scaling (see ``partial_fit``). No
    cross-validation.
    """
    import numpy as np

    _require_positive_chunk_rows(args)
    epochs = 1 if args.epochs is None else args.epochs
    if epochs < 1:
        raise UsageError(f"--epochs must be at least 1; got {epochs}")
    columns = table_columns(args.data)
    read_dates = DateReader(_date_columns(args, columns) if columns else [], args.data)
    # A classification's labels, no more than a chunk's worth: memory holds one chunk.
    scan = scan_csv(args.data, args.chunk_rows, target=args.target,
                    max_labels=0 if args.task == "regression" else args.chunk_rows)
    text_columns = scan.text_columns

    def labelled_chunks():
        for frame in iter_table(args.data, args.chunk_rows, text_columns=text_columns):
            if args.target not in frame.columns:
                raise _no_column(args.target, args.data, frame.columns)
            frame = read_dates(frame[frame[args.target].notna()])
            if len(frame):
                yield frame[args.target], frame.drop(columns=[args.target])

    chunks = labelled_chunks()
    first = next(chunks, None)
    if first is None:
        raise UsageError(f"{args.data} has no row with a value in {args.target!r}")
    if first[1].shape[1] == 0:
        raise UsageError(f"{args.data} has no column besides the target {args.target!r}")
    task = resolve_task(first[0], args.task, args.target)
    model = _new_model(task, args)
    fit_options, labels, n_rows = {}, (), scan.n_rows  # None for Parquet
    if task == "classification":  # partial_fit needs every label up front
        if scan.labels is not None:
            labels = scan.labels
        else:
            labels, n_rows = _target_labels(args, text_columns)
        fit_options["classes"] = np.array(list(labels), dtype=object)
    print(_task_line(task, args.target, len(labels)), file=out)
    print(f"streaming {args.data} in chunks of {args.chunk_rows} rows, {epochs} epoch(s)",
          file=out)

    start = time.perf_counter()
    seen = 0
    with _quiet_training():
        with _row_bar("fit", None if n_rows is None else n_rows * epochs, args.progress) as bar:
            for epoch in range(1, epochs + 1):
                rows = 0
                losses = []
                # the first pass goes on from the chunk that decided the task
                for y, X in itertools.chain([first], chunks) if epoch == 1 \
                        else labelled_chunks():
                    model.partial_fit(X, _target_values(y, task), **fit_options)
                    _stop_if_interrupted()  # Ctrl-C stops the command, mid-file too
                    losses.append((model.loss_curve_[-1], len(X)))
                    rows += len(X)
                    if bar is not None:
                        if bar.total is None and n_rows is not None:
                            bar.total = n_rows * epochs
                        bar.update(len(X))
                        bar.set_postfix(epoch=epoch, loss=f"{model.loss_curve_[-1]:.4g}",
                                        refresh=False)
                n_rows, seen = rows, seen + rows
                loss = sum(value * count for value, count in losses) / max(rows, 1)
                print(f"epoch {epoch}/{epochs}: loss {loss:.5g} ({rows} rows)", file=out)
    seconds = time.perf_counter() - start
    return _report_and_save(
        model, args, _metadata(args, task, n_rows, read_dates,
                               chunk_rows=int(args.chunk_rows), epochs=int(epochs)), out,
        fitted=f"fitted in {seconds:.1f} s ({seen / max(seconds, 1e-9):,.0f} rows/s, "
               f"{model.n_iter_} partial_fit calls)")


# ----------------------------------------------------------- predict, inspect
def _load(path: str) -> tuple:
    """The model in the file at ``path`` and the file's manifest, from one read of it."""
    from skneuron.persistence import _load_with_manifest

    if os.path.isdir(path):
        raise UsageError(f"{path} is a directory, not a model file")
    if not os.path.isfile(path):
        raise UsageError(f"no such model file: {path}")
    with warnings.catch_warnings():  # every warning of loading, shown by main in one line
        warnings.simplefilter("always")
        return _load_with_manifest(path)


def run_predict(args) -> None:
    """``skneuron predict``: the predictions as CSV.

    A text cell or column name that a spreadsheet would run as a formula
    (starting with ``= + - @``, a tab or a carriage return, and not a number)
    is written with a leading ``'`` (see ``_spreadsheet_text``).
    """
    from sklearn.base import is_classifier

    if args.out:
        check_output_path(args.out)
    model, manifest = _load(args.model)
    target, dates = _fit_metadata(manifest, args.model)
    read_dates = DateReader(dates, args.data, formats=dates)
    if args.proba and not is_classifier(model):
        raise UsageError("--proba needs a classification model")
    if args.chunk_rows is not None:
        return _predict_in_chunks(args, model, target, read_dates)
    result = _predictions(model, read_table(args.data), target, read_dates, args)
    if args.out:
        _write_output(args.out, result.to_csv(index=False).encode("utf-8"))
        print(f"wrote {len(result)} predictions to {args.out}", file=sys.stderr)
    else:
        result.to_csv(sys.stdout, index=False)


def _fit_metadata(manifest: dict, path: str) -> tuple[str, dict[str, str | None]]:
    """What ``predict`` reads of the metadata ``fit`` saved in the model file at ``path``:
    the column to write the predictions to, and the date columns with their formats.

    ``target`` names the prediction column (``"prediction"`` when absent) and
    must be text. ``dates`` (``fit --date``) maps each column to the format
    fit read it in (None when fit saw no value in it), which must be one
    :func:`_is_date_format` accepts: pandas compiles a format into a regular
    expression, slowly for a long run of directives, so a small model file
    with a long format could keep ``predict`` busy for a very long time.
    Anything else is a damaged file: a
    :class:`~skneuron.persistence.ModelFileError` naming it.
    """
    from skneuron.persistence import ModelFileError

    metadata = manifest["metadata"]
    target = metadata.get("target") or "prediction"
    if not isinstance(target, str):
        raise ModelFileError(f"{path!r} is damaged: its metadata 'target' is a "
                             f"{type(target).__name__}, not a column name.")
    dates = metadata.get("dates") or {}
    if not isinstance(dates, dict) or not all(
            isinstance(column, str) and (date_format is None or isinstance(date_format, str))
            for column, date_format in dates.items()):
        raise ModelFileError(f"{path!r} is damaged: its metadata 'dates' does not map column "
                             "names to date formats.")
    for column, date_format in dates.items():
        if date_format is not None and not _is_date_format(date_format):
            shown = repr(date_format[:40]) + (
                f"… ({len(date_format):,} characters)" if len(date_format) > 40 else "")
            raise ModelFileError(
                f"{path!r} is damaged: its metadata 'dates' gives column {column!r} the format "
                f"{shown}, not 'ISO8601' or a date format of at most {MAX_DATE_FORMAT_LENGTH} "
                "characters with each %-directive at most once.")
    return target, dates


#: A strptime pattern: printable ASCII text, ``%%``, and the directives pandas reads
#: (not ``%c``, ``%x`` or ``%X``, a locale's whole date or time).
_DATE_FORMAT = re.compile(r"(?:%[aAbBdfGHIjmMpSuUVwWyYzZ%]|[ -$&-~])*")


def _is_date_format(text: str) -> bool:
    """Whether ``text`` is a date format a model file may give a column: ``"ISO8601"``, or
    at most :data:`MAX_DATE_FORMAT_LENGTH` characters of printable ASCII text and
    :func:`~datetime.datetime.strptime` directives, each directive at most once (pandas
    cannot compile ``%d%d``).

    Examples
    --------
    >>> _is_date_format("%d/%m/%Y %H:%M"), _is_date_format("ISO8601")
    (True, True)
    >>> _is_date_format("%d%d"), _is_date_format("%Y" + "-" * 63), _is_date_format("%Q")
    (False, False, False)
    """
    if text == "ISO8601":
        return True
    if len(text) > MAX_DATE_FORMAT_LENGTH or not _DATE_FORMAT.fullmatch(text):
        return False
    directives = [directive for directive in re.findall("%.", text) if directive != "%%"]
    return len(directives) == len(set(directives))


def _predict_in_chunks(args, model, target, read_dates) -> None:
    """``predict --chunk-rows N``: read, predict and write ``N`` rows at a time.

    To a file the CSV goes whole or not at all (a temporary file renamed at
    the end); to standard output chunk by chunk.
    """
    _require_positive_chunk_rows(args)

    def write(handle, encode):
        count = 0
        for frame in iter_table(args.data, args.chunk_rows):
            if not len(frame):  # a CSV's header alone reads as one empty chunk
                continue
            text = _predictions(model, frame, target, read_dates, args).to_csv(
                index=False, header=not count)
            handle.write(encode(text))
            count += len(frame)
            _stop_if_interrupted()
        if not count:  # a table without rows: the header alone, quoted as for rows
            handle.write(encode(_no_predictions(model, target, args.proba).to_csv(index=False)))
        return count

    if args.out:
        from skneuron.persistence import write_atomically

        counted = []
        write_atomically(args.out, lambda handle: counted.append(
            write(handle, lambda text: text.encode("utf-8"))))
        print(f"wrote {counted[0]} predictions to {args.out}", file=sys.stderr)
    else:
        write(sys.stdout, lambda text: text)


def _predictions(model, frame, target: str, read_dates: DateReader, args):
    """The prediction table of ``frame``'s rows (and class probabilities with ``--proba``),
    the date columns of ``fit --date`` read by ``read_dates`` in the formats fit read."""
    import pandas as pd
    from sklearn.pipeline import Pipeline

    X = read_dates(frame.drop(columns=[target], errors="ignore"))
    if not isinstance(model, Pipeline) and hasattr(model, "feature_names_in_"):
        missing = [c for c in model.feature_names_in_ if c not in X.columns]
        if missing:
            raise UsageError(f"{args.data} lacks the column(s) {missing} the model was fitted on")
        X = X[list(model.feature_names_in_)]
    elif not isinstance(model, Pipeline):
        X = X.to_numpy()
    if not len(X):  # a table without rows, which the estimators refuse: the header alone
        return _no_predictions(model, target, args.proba)
    if args.proba:
        predicted, probabilities = _predict_with_proba(model, X)
        extra = {f"proba_{label}": column for label, column in zip(model.classes_, probabilities.T)}
    else:
        predicted, extra = model.predict(X), {}
    outputs = predicted.reshape(len(predicted), -1).T  # one row per output
    result = pd.DataFrame({**dict(zip(_prediction_columns(model, target), outputs)), **extra})
    return _spreadsheet_safe(result)


def _predict_with_proba(model, X) -> tuple:
    """``model.predict(X)`` and ``model.predict_proba(X)`` from one forward pass of the
    classifier's network, a pipeline's encoders transforming ``X`` once."""
    from sklearn.pipeline import Pipeline

    if isinstance(model, Pipeline):
        return model[-1]._predict_with_proba(model[:-1].transform(X))
    return model._predict_with_proba(X)


def _no_predictions(model, target: str, proba: bool):
    """The prediction table of no rows: its header alone, named as :func:`_predictions` names
    it (``predict`` writes it for a table without rows, in one piece or in chunks)."""
    import pandas as pd

    return _spreadsheet_safe(pd.DataFrame(columns=_output_columns(model, target, proba)))


def _spreadsheet_safe(result):
    """The prediction table ``result`` with its column names and text cells (class labels)
    as :func:`_spreadsheet_text` writes them, so that no cell of the CSV is a spreadsheet
    formula; columns of numbers are unchanged."""
    import pandas as pd

    names = [_spreadsheet_text(str(name)) for name in result.columns]
    safe = pd.DataFrame({i: _spreadsheet_column(column)
                         for i, (_, column) in enumerate(result.items())})
    safe.columns = names
    return safe


def _spreadsheet_column(column):
    """``column`` with its text cells as :func:`_spreadsheet_text` writes them, looked up
    per distinct value (a column of class labels holds a few); unchanged when none needs it."""
    import pandas as pd

    if column.dtype.kind not in "OSU":
        return column
    escaped = {value: _spreadsheet_text(value) for value in pd.unique(column)}
    if all(escaped[value] is value for value in escaped):
        return column
    return column.map(escaped)


def _output_columns(model, target: str, proba: bool) -> list[str]:
    """The columns ``predict`` writes: the predictions, then ``--proba``'s."""
    return _prediction_columns(model, target) + (
        [f"proba_{label}" for label in model.classes_] if proba else [])


def _prediction_columns(model, target: str) -> list[str]:
    """The names of ``model``'s prediction columns: ``target`` for one output;
    ``{target}_{label}`` for each label of a multilabel classifier and ``{target}_{i}``
    for each output of a multi-output regressor."""
    from sklearn.base import is_classifier
    from sklearn.pipeline import Pipeline

    estimator = model[-1] if isinstance(model, Pipeline) else model
    if is_classifier(estimator):
        return [f"{target}_{label}" for label in estimator.classes_] \
            if estimator._is_multilabel() else [target]
    n_outputs = getattr(estimator, "n_outputs_", 1)
    return [target] if n_outputs == 1 else [f"{target}_{i}" for i in range(n_outputs)]


def _same_value(value, default) -> bool:
    """Whether a parameter's ``value`` is its ``default``; arrays are compared by value."""
    import numpy as np

    if isinstance(value, np.ndarray) or isinstance(default, np.ndarray):
        return type(value) is type(default) and bool(np.array_equal(value, default))
    try:
        return bool(value == default)
    except (ValueError, TypeError):  # e.g. a list holding arrays
        return False


def _shown_value(value):
    """A parameter's value as ``inspect`` shows it: a number, text or boolean as it is,
    anything else as its repr (an array as the list of its values)."""
    import numpy as np

    if isinstance(value, (np.ndarray, np.generic)):
        value = value.tolist()
    return value if isinstance(value, (int, float, str, bool)) else repr(value)


def describe(path: str) -> dict:
    """What ``skneuron inspect`` shows, as plain data."""
    from sklearn.pipeline import Pipeline

    from skneuron.persistence import versions

    model, manifest = _load(path)
    estimator = model[-1] if isinstance(model, Pipeline) else model
    steps = [type(step).__name__ for _, step in model.steps] if isinstance(model, Pipeline) else []
    defaults = type(estimator)().get_params(deep=False)
    params = {k: v for k, v in estimator.get_params(deep=False).items()
              if not _same_value(v, defaults[k])}
    classes = getattr(estimator, "classes_", None)
    names = getattr(model, "feature_names_in_", getattr(estimator, "feature_names_in_", None))
    return {
        "file": path,
        "estimator": type(estimator).__name__,
        "pipeline": steps,
        "formula": str(estimator.formula_),
        "terms": list(estimator.formula_.terms),
        "discovery": None if estimator.discovery_ is None else estimator.discovery_.method,
        "params": {k: _shown_value(v) for k, v in params.items()},
        "classes": None if classes is None else [str(c) for c in classes],
        "features": None if names is None else [str(n) for n in names],
        "n_features_in": int(estimator.n_features_in_),
        "n_iter": int(estimator.n_iter_),
        "loss_curve": [float(v) for v in estimator.loss_curve_],
        "validation_scores": estimator.validation_scores_,
        "metadata": manifest["metadata"],
        "versions": {"saved": manifest["versions"], "running": versions()},
    }


def run_inspect(args, out=None) -> dict:
    """``skneuron inspect``: each line, and the JSON of ``--json``, with the model file's text
    escaped as :func:`_printable` and :func:`_printable_json` escape it."""
    out = out or sys.stdout
    if args.plot:
        check_output_path(args.plot)
    info = describe(args.model)
    if args.plot:
        _plot_training_curve(info, args.plot)
    if args.json:
        print(_printable_json(info), file=out)
        return info

    def show(line: str) -> None:  # the file's text may hold escape sequences: shown escaped
        print(_printable(line), file=out)

    meta = info["metadata"]
    show(f"{info['file']}: {info['estimator']}"
         + (f" in a pipeline ({' → '.join(info['pipeline'])})" if info["pipeline"] else ""))
    show(f"formula: {info['formula']}")
    show(f"  terms: {', '.join(info['terms'])}"
         + (f" (discovered by {info['discovery'].upper()})" if info["discovery"] else ""))
    if meta.get("target"):
        show(f"target: {meta['target']} ({meta.get('task')}), trained on {meta.get('n_rows')} rows "
             f"of {meta.get('data')}")
    if meta.get("dates"):
        dates = meta["dates"]
        shown = ", ".join(f"{column} ({date_format or 'no value seen'})"
                          for column, date_format in dates.items()) \
            if isinstance(dates, dict) else str(dates)
        show(f"dates (read as date-times): {shown}")
    score = meta.get("cv_score")
    if score is not None:
        shown = f"{score:.4f}" if isinstance(score, (int, float)) and not isinstance(score, bool) \
            else str(score)
        show(f"cross-validated {meta.get('metric')}: {shown}")
    if info["classes"] is not None:
        show(f"classes: {', '.join(info['classes'])}")
    features = info["features"]
    listed = "" if features is None else ": " + ", ".join(features[:12]) + (
        ", …" if len(features) > 12 else "")
    show(f"features: {info['n_features_in']} columns of the table" + listed)
    curve = info["loss_curve"]
    if curve:
        show(f"training: {info['n_iter']} epochs, loss {curve[0]:.4g} → {curve[-1]:.4g}")
    show("parameters (non-default): "
         + (", ".join(f"{k}={v}" for k, v in info["params"].items()) or "none"))
    saved, running = info["versions"]["saved"], info["versions"]["running"]
    show("versions (saved / running): " + ", ".join(
        f"{k} {saved.get(k)}" + ("" if saved.get(k) == v else f" / {v}")
        for k, v in running.items()))
    if args.plot:
        show(f"training curve: {args.plot}")
    return info


def _plot_training_curve(info: dict, path: str) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UsageError('--plot needs matplotlib: pip install "skneuron[cli]"') from None
    figure, axis = plt.subplots(figsize=(6, 4))
    epochs = range(1, len(info["loss_curve"]) + 1)
    axis.plot(epochs, info["loss_curve"], label="training loss")
    axis.set_xlabel("epoch")
    axis.set_ylabel("loss")
    if info["validation_scores"]:
        twin = axis.twinx()
        twin.plot(epochs, info["validation_scores"], color="tab:orange", label="validation score")
        twin.set_ylabel("validation score")
        (lines, labels), (twin_lines, twin_labels) = (
            axis.get_legend_handles_labels(), twin.get_legend_handles_labels())
        axis.legend(lines + twin_lines, labels + twin_labels, loc="center right")
    axis.set_title(f"{info['estimator']}: {', '.join(info['terms'])}")
    figure.tight_layout()
    image = io.BytesIO()
    try:
        figure.savefig(image, format="png")
    finally:
        plt.close(figure)
    _write_output(path, image.getvalue())


# ------------------------------------------------------------------------ main
def _one_line(exc) -> str:
    """The message of ``exc`` on one line (a formula error's caret line dropped)."""
    text = str(exc.args[0]) if isinstance(exc, KeyError) and len(exc.args) == 1 else str(exc)
    lines = [line.strip() for line in text.splitlines() if line.strip().strip("^")]
    return " ".join(lines) if lines else type(exc).__name__


def _folds(text: str) -> int:
    """``fit --cv``: 0 (no cross-validation) or a number of folds of at least 2."""
    try:
        folds = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if folds != 0 and folds < 2:
        raise argparse.ArgumentTypeError(
            f"must be 0 (no cross-validation) or at least 2; got {folds}")
    return folds


def _parser() -> argparse.ArgumentParser:
    from skneuron._version import __version__

    parser = argparse.ArgumentParser(
        prog="skneuron", description="Task-driven neurons for scikit-learn."
    )
    parser.add_argument("--version", action="version", version=f"skneuron {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="discover formulas and compare with sklearn's MLP on bundled data"
    )
    demo.add_argument("--seed", type=int, default=0, help="random_state of every model")

    fit = commands.add_parser(
        "fit", help="fit a model on a CSV/Parquet table and save it",
        description="Fit a task-neuron model on a table, print its formula and a "
                    "cross-validated score, and save it as a safe model file.",
    )
    fit.add_argument("data", help="CSV file (or .parquet/.pq)")
    fit.add_argument("--target", required=True, help="the column to predict")
    fit.add_argument("--task", choices=["auto", "regression", "classification"], default="auto",
                     help="auto: classification for text, boolean or few-valued integer targets")
    fit.add_argument("--out", default="model.skn", help="model file to write (default: model.skn)")
    fit.add_argument("--param", action="append", metavar="KEY=VALUE",
                     help="estimator parameter, e.g. --param max_iter=50 (repeatable)")
    fit.add_argument("--date", action="append", metavar="COLUMN",
                     help="read COLUMN's text as dates, which the model takes as seconds since "
                          "1970-01-01 UTC, not categories; predict reads it so too (repeatable)")
    fit.add_argument("--cv", type=_folds, default=5,
                     help="cross-validation folds, at least 2; 0 skips (default 5)")
    fit.add_argument("--seed", type=int, default=0, help="random_state (default 0)")
    fit.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                     help="progress bar (default: on a terminal, for fits over half a second)")
    fit.add_argument("--chunk-rows", type=int, metavar="N",
                     help="stream the table N rows at a time with partial_fit (files larger "
                          "than memory; no cross-validation)")
    fit.add_argument("--epochs", type=int, metavar="E",
                     help="with --chunk-rows: passes over the file (default 1)")

    predict = commands.add_parser(
        "predict", help="predict with a saved model, as CSV (text cells that a spreadsheet "
        "would run as a formula start with ')")
    predict.add_argument("model", help="model file from 'skneuron fit' or estimator.save()")
    predict.add_argument("data", help="CSV file (or .parquet/.pq) with the model's columns")
    predict.add_argument("--out", help="CSV file to write (default: standard output)")
    predict.add_argument("--proba", action="store_true", help="add class probability columns")
    predict.add_argument("--chunk-rows", type=int, metavar="N",
                         help="read, predict and write N rows at a time (files larger than "
                              "memory)")

    inspect = commands.add_parser("inspect", help="show a saved model's formula, parameters, "
                                                  "versions and training curve")
    inspect.add_argument("model", help="model file")
    inspect.add_argument("--plot", metavar="PNG", help="also draw the training curve to PNG")
    inspect.add_argument("--json", action="store_true", help="print as JSON")
    return parser


@contextlib.contextmanager
def _warnings_on_one_line(command: str):
    """Show each warning raised in this context as ``skneuron <command>: warning: <message>``
    on standard error, one line, instead of Python's file, line number and source line;
    the previous ``warnings.showwarning`` is restored on leaving."""
    previous = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        print(f"skneuron {command}: warning: {_printable(_one_line(message))}",
              file=file or sys.stderr)

    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = previous


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``skneuron`` command: the console script's entry point.

    ``skneuron --help`` and ``skneuron <command> --help`` list the options;
    the user guide's page on saving models shows the commands at work.

    Parameters
    ----------
    argv : sequence of str, optional
        The command and its arguments, as typed after ``skneuron``;
        ``sys.argv[1:]`` when omitted.

    Returns
    -------
    int
        The exit status: 0 on success; 1 after a mistake in the input, a
        damaged model file or an operating-system error such as a full disk
        (printed as one line on standard error, with no traceback unless
        ``SKNEURON_TRACEBACK=1`` is set) or a broken output pipe; 130 when
        interrupted by Ctrl-C, which stops the whole command (cross-validation
        and training included) and leaves no output file behind. Warnings
        raised meanwhile are printed as one line each,
        ``skneuron <command>: warning: <message>``. (``--help``, ``--version``
        and a mistake in the arguments end in argparse's ``SystemExit``, with
        status 0 or 2.)

    Examples
    --------
    >>> main(["inspect", "no-such-model.skn"])  # prints the error on standard error
    1
    """
    args = _parser().parse_args(argv)
    commands = {"demo": lambda: run_demo(seed=args.seed), "fit": lambda: run_fit(args),
                "predict": lambda: run_predict(args), "inspect": lambda: run_inspect(args)}
    try:
        with _interrupts_noted(), _warnings_on_one_line(args.command):
            commands[args.command]()
    except KeyboardInterrupt:
        print(f"skneuron {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. "skneuron predict ... | head": stop writing quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except (UsageError, ValueError, OSError, ImportError, MemoryError, RuntimeError) as exc:
        from skneuron._device import is_out_of_memory

        # Running out of memory is the table's or the model's size: one line, as for
        # MemoryError. Any other RuntimeError is a defect and keeps its traceback.
        if os.environ.get("SKNEURON_TRACEBACK") or \
                (isinstance(exc, RuntimeError) and not is_out_of_memory(exc)):
            raise
        print(f"skneuron {args.command}: error: {_printable(_one_line(exc))}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
