"""Tabular input: data frames with categorical columns and missing values, read natively.

The estimators accept what a data scientist has at hand — a pandas (or any
``__dataframe__``/Arrow) frame with numeric, boolean, text and categorical
columns, with missing values — as well as plain numeric arrays. This module
turns such input into one float64 *code matrix* of shape
``(n_samples, n_features_in_)``:

- a numeric or boolean column is its values as float64, ``NaN`` where missing
  (an object column of numbers, ``Decimal`` too, counts);
- a date-time column (numpy's, Arrow's dates and time stamps, or objects such as
  ``datetime.date``) is its seconds since 1970-01-01 UTC and a duration column
  its length in seconds, ``NaN`` where missing (``NaT``): numbers, so a date
  not seen in ``fit`` is placed by its time, not read as an unseen category;
- a categorical column is the index of each value in the column's list of
  categories (learned in ``fit``), ``NaN`` where missing or not seen in ``fit``.

A scipy sparse matrix or array (CSR, CSC, or any format scipy converts to
them) stays sparse: its code matrix is itself, in CSR form, all its columns
are numeric, and :func:`input_encoding` computes its statistics from the
stored values, so no step here allocates the dense matrix.

The network's input module (:class:`skneuron.nn.TabularInput`) then imputes,
scales and one-hot encodes the code matrix, so that everything after this
step — training, prediction, export — is numeric. Which columns are
categorical follows the ``categorical_features`` parameter, with the
conventions of :class:`~sklearn.ensemble.HistGradientBoostingRegressor`.
"""

from __future__ import annotations

import datetime
import warnings
from contextlib import contextmanager
from decimal import Decimal
from numbers import Real

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import check_array

__all__ = ["categorical_mask", "code_matrix", "keep_seen_categories", "learn_categories"]

#: The sparse formats read without conversion (others are converted to CSR).
SPARSE_FORMATS = ("csr", "csc")

#: Text longer than this is not kept as a category (it encodes as unseen): a
#: category is a label, and the model file keeps every category it learned.
MAX_CATEGORY_LENGTH = 1000


def as_frame(X):
    """``X`` as a pandas DataFrame if it is a data frame of any library, else None.

    Arrow tables, polars and other ``__dataframe__`` frames are converted
    through narwhals; arrays and lists are left alone (None).
    """
    import pandas as pd

    if isinstance(X, pd.DataFrame):
        return X
    import narwhals as nw

    if nw.dependencies.is_into_dataframe(X):
        return nw.from_native(X, eager_only=True).to_pandas()
    return None


def refuse_empty(shape: tuple, estimator: str) -> None:
    """Refuse a table without rows or columns, in :func:`~sklearn.utils.check_array`'s
    words (which data frames, validated column by column, do not go through)."""
    for count, what in zip(shape, ("sample", "feature")):
        if count < 1:
            raise ValueError(f"Found array with 0 {what}(s) (shape={shape}) while a minimum "
                             f"of 1 is required by {estimator}.")


def as_table(X):
    """``X`` as a pandas DataFrame when it holds anything but numbers, else a float64 array.

    Numeric input takes scikit-learn's path (``check_array``), so arrays, lists
    and sparse matrices behave exactly as they do for scikit-learn's
    estimators; only frames and object or text arrays become DataFrames. A
    sparse matrix or array becomes a float64 CSR matrix in canonical form
    (sorted indices, no duplicate entries); it is never densified.
    """
    import pandas as pd

    if sp.issparse(X):
        return _sparse_table(X)
    frame = as_frame(X)
    if frame is not None:
        return frame
    if hasattr(X, "dtype") and getattr(X.dtype, "kind", "O") in "biuf":
        return check_array(X, dtype=np.float64, ensure_all_finite="allow-nan", input_name="X")
    if isinstance(X, (list, tuple)):  # rows of numbers and text: numpy would make all of it text
        X = np.asarray(X, dtype=object)
    array = check_array(X, dtype=None, ensure_all_finite=False, input_name="X")
    if array.dtype.kind in "biuf":
        return check_array(array, dtype=np.float64, ensure_all_finite="allow-nan", input_name="X")
    try:  # an object array of numbers is numeric; one holding text, dates or pd.NA is a table
        return check_array(array, dtype=np.float64, ensure_all_finite="allow-nan", input_name="X")
    except (ValueError, TypeError):
        return pd.DataFrame(array)


def _sparse_table(X) -> sp.csr_matrix:
    """A sparse ``X`` as a canonical float64 CSR matrix (rows are sliced from it)."""
    X = check_array(X, accept_sparse=SPARSE_FORMATS, dtype=np.float64,
                    ensure_all_finite="allow-nan", input_name="X")
    X = sp.csr_matrix(X)  # CSC → CSR; a sparse array becomes a matrix, sliced the same way
    if not X.has_canonical_format:
        X = X.copy()
        X.sum_duplicates()
    return X


def categorical_mask(table, categorical_features, feature_names=None) -> np.ndarray:
    """Which columns of ``table`` are categorical, as a boolean mask.

    Parameters
    ----------
    table : pandas.DataFrame or ndarray
        The input, as :func:`as_table` returns it.
    categorical_features : "from_dtype", None, or array-like of bool, int or str
        ``"from_dtype"``: the columns whose values are not numbers — pandas
        ``category``, text (``str``/``object``) columns; booleans, date-times
        and durations are numbers.
        ``None``: no column. Otherwise a boolean mask, column indices or
        column names, as in :class:`~sklearn.ensemble.HistGradientBoostingRegressor`.
    feature_names : ndarray of str, optional
        The column names, needed when ``categorical_features`` holds names.

    Returns
    -------
    ndarray of bool, shape (n_features,)

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"age": [30, 40], "city": ["Oslo", "Rome"]})
    >>> categorical_mask(frame, "from_dtype")
    array([False,  True])
    >>> categorical_mask(frame, ["city"], feature_names=frame.columns.to_numpy())
    array([False,  True])
    """
    n_features = table.shape[1]
    if categorical_features is None:
        return np.zeros(n_features, dtype=bool)
    if isinstance(categorical_features, str) and categorical_features == "from_dtype":
        if isinstance(table, np.ndarray) or sp.issparse(table):
            return np.zeros(n_features, dtype=bool)
        return np.array([not _holds_numbers(table.iloc[:, j]) for j in range(n_features)],
                        dtype=bool)
    mask = _explicit_mask(np.asarray(categorical_features), n_features, feature_names)
    if sp.issparse(table) and mask.any():
        raise ValueError(
            f"X is sparse, and sparse input is all numeric, but categorical_features names "
            f"columns {np.flatnonzero(mask).tolist()} as categorical. Set "
            "categorical_features=None, or pass a dense array or data frame.")
    return mask


def _explicit_mask(given: np.ndarray, n_features: int, feature_names) -> np.ndarray:
    if given.size == 0:
        return np.zeros(n_features, dtype=bool)
    if given.dtype.kind == "b":
        if given.shape != (n_features,):
            raise ValueError(
                f"categorical_features as a boolean mask needs one entry per feature "
                f"({n_features}); got {given.shape[0]}.")
        return given.astype(bool)
    mask = np.zeros(n_features, dtype=bool)
    if given.dtype.kind in "iu":
        if given.min() < 0 or given.max() >= n_features:
            raise ValueError(
                f"categorical_features holds indices outside [0, {n_features - 1}]: "
                f"{given.tolist()}.")
        mask[given] = True
        return mask
    if given.dtype.kind in "UO" and all(isinstance(name, str) for name in given):
        if feature_names is None:
            raise ValueError(
                "categorical_features names columns, but X has no column names; give a "
                "data frame or pass column indices.")
        names = list(map(str, feature_names))
        unknown = [str(name) for name in given if name not in names]
        if unknown:
            raise ValueError(f"categorical_features names columns {unknown} that X does not "
                             f"have; its columns are {names}.")
        mask[[names.index(name) for name in given]] = True
        return mask
    raise ValueError("categorical_features must be 'from_dtype', None, or an array-like of "
                     f"bool, int or str; got {given.tolist()!r}.")


#: Python objects an object column may hold and still be read as numbers: real numbers
#: (``Decimal`` too, as SQL drivers return them), or all dates and date-times, or all
#: durations (read as seconds).
_NUMBERS = (Real, Decimal, np.bool_)  # numpy registers its integers and floats as Real
_MOMENTS = (datetime.date, np.datetime64)  # datetime.datetime and pandas' Timestamp too
_DURATIONS = (datetime.timedelta, np.timedelta64)


def _holds_numbers(column) -> bool:
    """Whether a frame column is numeric, boolean, a date-time or a duration (an object
    column of numbers, of dates or of durations counts)."""
    return _numeric_kind(column) is not None


def _object_kind(column) -> type | None:
    """Which of :data:`_NUMBERS`, :data:`_MOMENTS` or :data:`_DURATIONS` every
    present value of an object column is (None for none, or an empty column)."""
    values = column.dropna()
    if len(values) == 0:
        return None
    for kind in (_NUMBERS, _MOMENTS, _DURATIONS):
        if all(isinstance(v, kind) for v in values):
            return kind
    return None


def learn_categories(table, mask: np.ndarray) -> list:
    """The sorted categories seen in each categorical column (None for the others).

    Missing values (None, NaN, pandas' NA) are not categories, nor is text of
    more than :data:`MAX_CATEGORY_LENGTH` characters. Categories are sorted;
    values of different types (numbers and text) are sorted by type name
    first.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"n": [1.0, 2.0, 3.0], "c": ["b", None, "a"]})
    >>> learn_categories(frame, np.array([False, True]))
    [None, array(['a', 'b'], dtype=object)]
    """
    import pandas as pd

    if not np.any(mask):
        return [None] * len(mask)
    categories = []
    for j, categorical in enumerate(mask):
        if not categorical:
            categories.append(None)
            continue
        column = _frame(table).iloc[:, j].dropna().to_numpy(dtype=object)
        with _hashable_values(repr(str(_frame(table).columns[j]))):
            distinct = pd.unique(column)
            values = [_plain(v) for v in distinct
                      if not (isinstance(v, str) and len(v) > MAX_CATEGORY_LENGTH)]
            key = None if _one_type(values) else (lambda v: (type(v).__name__, v))
            categories.append(np.array(sorted(values, key=key), dtype=object))
    return categories


@contextmanager
def _hashable_values(name: str):
    """Refuse, in one line, a categorical column (``name`` as messages quote it) whose
    values cannot be looked up or sorted."""
    try:
        yield
    except TypeError as exc:
        raise ValueError(f"Column {name} holds values that can be neither numbers nor "
                         f"categories ({exc}); convert them to text or numbers.") from None


def _frame(table):
    import pandas as pd

    return table if isinstance(table, pd.DataFrame) else pd.DataFrame(table)


def _plain(value):
    """Numpy scalars as Python values, so categories compare and save simply."""
    return value.item() if isinstance(value, np.generic) else value


def _one_type(values) -> bool:
    return len({_kind(v) for v in values}) <= 1


def code_matrix(table, mask: np.ndarray, categories: list, feature_names=None,
                kinds: list | None = None) -> np.ndarray:
    """The float64 code matrix of ``table``: numbers, and category indices for categories.

    Parameters
    ----------
    table : pandas.DataFrame or ndarray
        The input, as :func:`as_table` returns it.
    mask : ndarray of bool
        The categorical columns, from :func:`categorical_mask` at fit time.
    categories : list
        From :func:`learn_categories` at fit time.
    feature_names : sequence of str, optional
        Names for error messages.
    kinds : list, optional
        From :func:`numeric_kinds` at fit time: a numeric column that held
        numbers, date-times or durations must hold the same now (None: any).

    Returns
    -------
    ndarray of float64, shape (n_samples, n_features)
        ``NaN`` where a value is missing, and in a categorical column where the
        category was not seen in ``fit``. A sparse ``table`` is returned as it
        is (all its columns are numeric).

    Raises
    ------
    ValueError
        If a numeric column holds text, an infinite value, or values of
        another kind than ``kinds`` records.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"n": [1.0, None], "c": ["b", "z"]})
    >>> code_matrix(frame, np.array([False, True]), [None, np.array(["a", "b"], dtype=object)])
    array([[ 1.,  1.],
           [nan, nan]])
    """
    if sp.issparse(table):  # all numeric (categorical_mask refuses categorical columns)
        if np.isinf(table.data).any():
            raise ValueError(
                "Input X contains infinity or a value too large for dtype('float64').")
        return table
    if isinstance(table, np.ndarray) and not mask.any():
        codes = table
    else:
        table = _frame(table)
        codes = np.empty(table.shape, dtype=np.float64)
        for j, (_, column) in enumerate(table.items()):
            if mask[j]:
                name = _name(feature_names, j)
                with _hashable_values(name):
                    codes[:, j] = _category_codes(column, categories[j], name)
            else:
                codes[:, j] = _numeric_column(column, _name(feature_names, j),
                                              kinds[j] if kinds else None)
    if np.isinf(codes).any():
        raise ValueError("Input X contains infinity or a value too large for dtype('float64').")
    return codes


def keep_seen_categories(codes: np.ndarray, mask: np.ndarray, categories: list):
    """``codes`` and ``categories`` without the categories no row of ``codes`` holds.

    ``fit`` learns the categories from every row it is given, then drops the
    rows of weight zero; this makes a category seen only in those rows
    unseen, as if the rows had never been given. Returns new codes (the
    input is left alone) and categories.

    Examples
    --------
    >>> codes = np.array([[2.0, 0.5], [np.nan, 1.5]])
    >>> keep_seen_categories(codes, np.array([True, False]),
    ...                      [np.array(["a", "b", "c"], dtype=object), None])
    (array([[0. , 0.5],
           [nan, 1.5]]), [array(['c'], dtype=object), None])
    """
    codes, categories = codes.copy(), list(categories)
    for j in np.flatnonzero(mask):
        column = codes[:, j]
        present = np.unique(column[~np.isnan(column)]).astype(np.int64)
        if len(present) < len(categories[j]):
            renumbered = np.full(len(categories[j]) + 1, np.nan)  # index −1 reads NaN
            renumbered[present] = np.arange(len(present))
            codes[:, j] = renumbered[np.where(np.isnan(column), -1, column).astype(np.int64)]
            categories[j] = categories[j][present]
    return codes, categories


def _category_codes(column, categories, name: str) -> np.ndarray:
    """Each value's index in ``categories``, NaN for a missing or unseen value.

    The column's distinct values are looked up once (``pandas.factorize``,
    which leaves categorical and text columns in their own storage), not its
    every row. A number finds the category spelled as that number and numeric
    text the category that is that number (:func:`_category_positions`); when
    no value is found and the values are of another kind than the categories
    (numbers against text, say), a warning says so.
    """
    import pandas as pd

    if isinstance(column.dtype, pd.CategoricalDtype):
        row_codes, values = column.cat.codes.to_numpy(), column.cat.categories
    else:
        row_codes, values = pd.factorize(column)
    values = values.tolist()
    position = _category_positions(categories)
    # code −1 (a missing value) reads the appended NaN
    lookup = np.array([position.get(value, np.nan) for value in values] + [np.nan])
    if values and len(categories) and np.isnan(lookup).all() \
            and not {_kind(v) for v in values} & {_kind(c) for c in categories}:
        warnings.warn(
            f"Column {name} holds no category seen in fit: its values are {_kind(values[0])} "
            f"such as {values[0]!r}, fit's categories {_kind(categories[0])} such as "
            f"{categories[0]!r}; every row reads as an unseen category.", UserWarning,
            stacklevel=2)
    return lookup[row_codes]


def _category_positions(categories) -> dict:
    """Each category's index, under its own value and under its other spelling.

    A text category that reads as a finite number is found by that number too,
    and a number by its text (``"3"`` for 3 and 3.0): one CSV column of codes
    reads as numbers from a file or chunk that holds nothing else, and as text
    from another. A category's own value wins over another's spelling.
    """
    position = {}
    for i, category in enumerate(categories):
        for spelling in _other_spellings(category):
            position.setdefault(spelling, i)
    position.update((category, i) for i, category in enumerate(categories))
    return position


def _other_spellings(category) -> list:
    if isinstance(category, str):
        try:
            number = float(category)
        except ValueError:
            return []
        return [number] if np.isfinite(number) else []
    if isinstance(category, Real) and not isinstance(category, (bool, np.bool_)):
        whole = float(category).is_integer()
        return [str(int(category)) if whole else str(category)]
    return []


def _kind(value) -> str:
    """"text", "numbers" or the type's name: what a category or a value is."""
    return "text" if isinstance(value, str) else "numbers" if isinstance(value, Real) \
        else type(value).__name__


def _is_time(dtype) -> bool:
    """Whether ``dtype`` holds date-times (time zone or not) or durations: numpy's,
    pandas' and pyarrow-backed ones."""
    return getattr(dtype, "kind", None) in ("M", "m")


def _seconds(column, durations: bool) -> np.ndarray:
    """A date-time column as seconds since 1970-01-01 UTC, a duration column as seconds;
    ``NaN`` where missing.

    Any column pandas reads as date-times qualifies — numpy's and Arrow's
    date-times and dates, date objects, time stamps of mixed time zones: values
    with a time zone are converted to UTC, and those without one are taken as
    UTC.
    """
    import pandas as pd

    if durations:
        column = pd.to_timedelta(column)
    else:
        column = pd.to_datetime(column, utc=True).dt.tz_localize(None) - np.datetime64(0, "s")
    return column.to_numpy() / np.timedelta64(1, "s")  # NaT / 1 s is NaN


#: What the values of a numeric column are: numbers, date-times (read as seconds since
#: 1970) or durations (read as seconds).
NUMERIC_KINDS = ("number", "date-time", "duration")


def numeric_kinds(table, mask: np.ndarray) -> list:
    """What each numeric column of ``table`` holds (one of :data:`NUMERIC_KINDS`).

    None for a categorical column, and for one whose kind cannot be told: a
    column of text (read as numbers if it spells them) or without a value.
    ``fit`` records them, so that :func:`code_matrix` can refuse a column
    that holds another kind later, which it would read as other numbers.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"n": [1, 2], "t": pd.to_datetime(["2020-01-01", None]),
    ...                       "c": ["a", "b"]})
    >>> numeric_kinds(frame, np.array([False, False, True]))
    ['number', 'date-time', None]
    """
    if sp.issparse(table) or isinstance(table, np.ndarray) and table.dtype.kind in "biuf":
        return [None if categorical else "number" for categorical in mask]
    return [None if categorical else _numeric_kind(column)
            for categorical, (_, column) in zip(mask, _frame(table).items())]


def _numeric_kind(column) -> str | None:
    import pandas as pd

    dtype = column.dtype
    if _is_time(dtype):
        return "duration" if dtype.kind == "m" else "date-time"
    if pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
        return "number"
    kind = _object_kind(column) if dtype == object else None
    return {_NUMBERS: "number", _MOMENTS: "date-time", _DURATIONS: "duration"}.get(kind)


def _numeric_column(column, name: str, fitted_kind: str | None = None) -> np.ndarray:
    """A numeric column's values as float64; ``fitted_kind`` (:func:`numeric_kinds` at
    fit) refuses values of another kind."""
    import pandas as pd

    dtype = column.dtype
    if pd.api.types.is_complex_dtype(dtype):
        raise ValueError(f"Column {name} holds complex numbers; complex data not supported.")
    kind = _numeric_kind(column)
    if fitted_kind and kind != fitted_kind and (kind or fitted_kind != "number") \
            and column.notna().any():
        now = f"{kind}s now, which would read as other numbers" if kind else "text now"
        raise ValueError(f"Column {name} held {fitted_kind}s in fit but holds {now}; give it "
                         f"as {fitted_kind}s, as in fit.")
    try:
        if kind in ("date-time", "duration"):
            return _seconds(column, durations=kind == "duration")
        if kind == "number" and dtype != object:
            return column.to_numpy(dtype=np.float64, na_value=np.nan)
        return pd.to_numeric(column.astype(object), errors="raise").to_numpy(
            dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"Column {name} is not categorical but holds values that are not numbers ({exc}). "
            "To treat it as categorical, name it in categorical_features (with "
            "categorical_features='from_dtype', the default, a column of the 'category' or a "
            "text dtype is categorical).") from None


def _name(feature_names, j: int) -> str:
    return f"{str(feature_names[j])!r}" if feature_names is not None else f"at index {j}"


#: A categorical column with more categories than this keeps the most frequent ones
#: as one-hot columns and groups the others into one "other" column. As many as
#: HistGradientBoosting treats natively (its max_bins); 64 grouped the rare classes and
#: schools of nlschools and Star (benchmarks/results/ablation_onehot.md).
MAX_ONEHOT_CATEGORIES = 255
#: Smooth clipping bound of robustly scaled numeric columns (RealMLP's choice).
SMOOTH_CLIP = 3.0


def input_encoding(codes: np.ndarray, mask: np.ndarray, categories: list, *,
                   scaling: str = "robust", feature_names=None, sample_weight=None) -> dict:
    """What :class:`skneuron.nn.TabularInput` needs to encode rows like ``codes``.

    Numeric columns are centred and scaled — ``"robust"``: by the median and
    the interquartile range (half the range when that is zero), then
    smoothly clipped to ``(−3, 3)`` by ``z / √(1 + (z/3)²)``; ``"standard"``:
    by the mean and standard deviation; a column with no spread in ``codes``
    gets an infinite scale, so it reads as 0 whatever comes later — and their
    missing values are set to the centre, with an indicator column for every
    column that had missing values in ``codes`` (but not only missing ones).
    A categorical column with two categories and no missing value becomes
    one ±1 column; any other one becomes one-hot
    columns for its (at most :data:`MAX_ONEHOT_CATEGORIES`) most frequent
    categories, an "other" column for the rest and a "missing" column when
    values were missing; a category not seen in ``fit`` encodes as all zeros.

    Parameters
    ----------
    codes : ndarray or sparse CSR matrix of shape (n_samples, n_features)
        Training rows as :func:`code_matrix` returns them. Sparse codes need
        ``scaling="standard"``; their statistics are computed from the stored
        values (the implicit zeros count as values), never densified.
    mask, categories : as from :func:`categorical_mask` and :func:`learn_categories`.
    scaling : {"robust", "standard"}, default="robust"
        How numeric columns are scaled.
    feature_names : sequence of str, optional
        Column names, for the names of the encoded columns.
    sample_weight : ndarray of shape (n_samples,), optional
        Positive weights of the rows: the centres and scales are weighted
        statistics (weighted mean and standard deviation, or weighted
        quartiles), and the most frequent categories are those of largest
        total weight. None weighs the rows equally.

    Returns
    -------
    dict
        Keyword arguments of :class:`~skneuron.nn.TabularInput` (arrays and
        lists: plain data) and ``"names"``, the encoded columns' names.

    Examples
    --------
    >>> codes = np.array([[1.0, 0.0], [2.0, 1.0], [np.nan, 2.0], [4.0, 1.0]])
    >>> spec = input_encoding(codes, np.array([False, True]),
    ...                       [None, np.array(["a", "b", "c"], dtype=object)],
    ...                       feature_names=["size", "kind"])
    >>> spec["names"]
    ['size', 'size is missing', 'kind=a', 'kind=b', 'kind=c']
    """
    names = [str(n) for n in feature_names] if feature_names is not None \
        else [f"x{j}" for j in range(codes.shape[1])]
    numeric = np.flatnonzero(~mask)
    if sp.issparse(codes):
        if scaling != "standard" or mask.any():
            raise ValueError("sparse codes are encoded with scaling='standard' and no "
                             "categorical column.")
        center, scale, missing = _sparse_statistics(codes, sample_weight)
    else:
        center, scale = _numeric_statistics(codes[:, numeric], scaling, sample_weight)
        # A column missing everywhere gets no indicator: it would be 1 in every row at fit.
        missing = [int(j) for j in numeric if 0 < np.isnan(codes[:, j]).sum() < len(codes)]
    spec = {
        "n_inputs": codes.shape[1],
        "numeric": numeric.tolist(), "center": center, "scale": scale,
        "clip": SMOOTH_CLIP if scaling == "robust" else None,
        "missing": missing, "categorical": np.flatnonzero(mask).tolist(), "tables": [],
    }
    encoded_names = [names[j] for j in numeric] + [f"{names[j]} is missing" for j in missing]
    for j in spec["categorical"]:
        table, labels = _category_table(codes[:, j], categories[j], sample_weight)
        spec["tables"].append(table)
        encoded_names += [f"{names[j]}={label}" for label in labels]
    spec["names"] = encoded_names
    return spec


def _numeric_statistics(columns: np.ndarray, scaling: str, sample_weight=None):
    """Centre and scale of each column, ignoring missing values.

    A column with one value, or none, has an infinite scale: it reads as its
    centre (0 once scaled) at fit, and stays so whatever value comes later,
    as a tree never splits on a feature it did not see vary.
    """
    n = columns.shape[1]
    center, scale = np.zeros(n), np.empty(n)
    for j in range(n):
        present = ~np.isnan(columns[:, j])
        values = columns[:, j][present]
        weights = None if sample_weight is None else sample_weight[present]
        if values.size == 0:
            scale[j] = np.inf
            continue
        if scaling == "standard":
            mean, std, constant = mean_and_scale(values[:, None], weights)
            center[j], scale[j] = mean[0], np.inf if constant[0] else std[0]
            continue
        # Quartiles of the values divided by their peak, so no difference overflows.
        peak = max(np.abs(values).max(), np.finfo(np.float64).tiny)
        q25, median, q75 = (np.percentile(values / peak, [25, 50, 75]) if weights is None
                            else _weighted_quantiles(values / peak, weights, [0.25, 0.5, 0.75]))
        spread = q75 - q25 if q75 > q25 else np.ptp(values / peak) / 2
        center[j] = median * peak
        scale[j] = spread * peak if spread > 0 else np.inf
    return center, scale


def _sparse_statistics(codes: sp.csr_matrix, sample_weight: np.ndarray | None = None
                       ) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Mean and standard deviation of each column of a CSR matrix, and its missing columns.

    The same statistics as :func:`_numeric_statistics` with ``"standard"``
    scaling computes on the dense matrix — the implicit zeros are values, a
    stored ``NaN`` is missing, rows weigh ``sample_weight`` (1 without) — up
    to rounding, from the stored values alone.
    """
    n_rows, n_columns = codes.shape
    row_weight = np.ones(n_rows) if sample_weight is None else np.asarray(sample_weight, float)
    weights = np.repeat(row_weight, np.diff(codes.indptr))  # of each stored value
    columns, values = codes.indices, codes.data
    absent = np.isnan(values)
    n_absent = np.bincount(columns[absent], minlength=n_columns)  # rows, not weights: no rounding
    # As for dense codes: no indicator of a column missing everywhere.
    missing = np.flatnonzero((n_absent > 0) & (n_absent < n_rows)).tolist()
    count = row_weight.sum() - np.bincount(columns[absent], weights[absent], minlength=n_columns)
    count = np.where(n_absent == n_rows, 0.0, count)
    columns, values, weights = columns[~absent], values[~absent], weights[~absent]
    peak = np.zeros(n_columns)
    np.maximum.at(peak, columns, np.abs(values))
    peak = np.where(peak > 0, peak, 1.0)
    scaled = values / peak[columns]  # as mean_and_scale: no square overflows
    safe_count = np.where(count > 0, count, 1.0)
    mean = np.bincount(columns, weights * scaled, minlength=n_columns) / safe_count
    stored = np.bincount(columns, weights, minlength=n_columns)
    # Two passes: squared deviations of the stored values, plus those of the zeros.
    squares = np.bincount(columns, weights * (scaled - mean[columns]) ** 2, minlength=n_columns)
    std = np.sqrt(np.maximum(squares + (count - stored) * mean**2, 0.0) / safe_count)
    eps = np.finfo(np.float64).eps
    constant = std**2 <= count * eps * std**2 + (count * mean * eps) ** 2
    center = np.where(count > 0, mean * peak, 0.0)
    scale = np.where((count > 0) & ~constant, std * peak, np.inf)
    return center, scale, missing


def mean_and_scale(A: np.ndarray, sample_weight: np.ndarray | None = None
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Column means, standard deviations and the constant-column mask of ``A``.

    Each column is divided by its largest magnitude first, so values near the
    float64 limits (1e±200) neither overflow nor underflow when squared. A
    column is constant when its variance is within the rounding error of its
    mean (scikit-learn's test in ``StandardScaler``), so a target of tiny
    magnitude (1e-30) still counts as varying; constant columns get scale 1.
    With ``sample_weight`` (positive, one per row) the mean and standard
    deviation are weighted; None weighs the rows equally.

    Examples
    --------
    >>> mean, std, constant = mean_and_scale(np.array([[0.0], [2.0]]), np.array([3.0, 1.0]))
    >>> mean, std.round(4), constant
    (array([0.5]), array([0.866]), array([False]))
    """
    peak = np.abs(A).max(axis=0)
    peak = np.where(peak > 0, peak, 1.0)
    B = A / peak
    if sample_weight is None:
        mean, std = B.mean(axis=0), B.std(axis=0)
    else:
        mean = np.average(B, axis=0, weights=sample_weight)
        std = np.sqrt(np.average((B - mean) ** 2, axis=0, weights=sample_weight))
    eps = np.finfo(np.float64).eps
    constant = std**2 <= len(A) * eps * std**2 + (len(A) * mean * eps) ** 2
    return mean * peak, np.where(constant, 1.0, std * peak), constant


def _weighted_quantiles(values: np.ndarray, weights: np.ndarray, quantiles) -> np.ndarray:
    """Quantiles of the distribution putting ``weights`` on ``values`` (inverted CDF).

    With integer weights, the quantiles of the values repeated that many
    times under numpy's ``method="inverted_cdf"``.
    """
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    positions = np.searchsorted(cumulative, np.asarray(quantiles) * cumulative[-1], side="left")
    return values[order][np.minimum(positions, len(values) - 1)]


def _category_table(codes: np.ndarray, categories: np.ndarray, sample_weight=None):
    """Encoding table of one categorical column: row i encodes category i, the last row
    encodes missing or unseen values; and the names of its columns. The kept
    categories are those of largest total weight (count without weights)."""
    k = len(categories)
    present = ~np.isnan(codes)
    has_missing = not present.all()
    if k <= 2 and not has_missing:
        table = np.zeros((k + 1, 1))
        table[:k, 0] = [-1.0, 1.0][:k] if k == 2 else [1.0]
        return table, [f"{categories[-1]}" if k else "?"]
    counts = np.bincount(codes[present].astype(np.int64), minlength=k,
                         weights=None if sample_weight is None else sample_weight[present])
    kept = np.sort(np.argsort(-counts, kind="stable")[:MAX_ONEHOT_CATEGORIES])
    others = k > len(kept)
    width = len(kept) + others + has_missing
    table = np.zeros((k + 1, width))
    slot = np.full(k, len(kept)) if others else np.full(k, -1)
    slot[kept] = np.arange(len(kept))
    for category in range(k):
        if slot[category] >= 0:
            table[category, slot[category]] = 1.0
    if has_missing:
        table[k, width - 1] = 1.0
    labels = [str(categories[i]) for i in kept] + ["other"] * others + ["missing"] * has_missing
    return table, labels


def check_input_encoding(spec: dict, n_features: int, mask, categories) -> None:
    """Refuse an input encoding that does not describe ``n_features`` columns consistently.

    For encodings from untrusted files: every column is numeric or categorical
    exactly once, indicators flag numeric columns, statistics are finite with
    positive scales, and each categorical column's table has a row per
    category plus one. Raises ValueError naming the first inconsistency.

    Examples
    --------
    >>> spec = input_encoding(np.array([[1.0], [2.0]]), np.array([False]), [None])
    >>> check_input_encoding(spec, 1, np.array([False]), [None])
    >>> check_input_encoding(spec, 2, np.array([False, False]), [None, None])
    Traceback (most recent call last):
    ...
    ValueError: the input encoding reads 1 columns, but n_features_in_ is 2.
    """
    expected = {"n_inputs", "numeric", "center", "scale", "clip", "missing", "categorical",
                "tables", "names"}
    if not isinstance(spec, dict) or set(spec) != expected:
        raise ValueError("the input encoding is malformed.")
    if spec["n_inputs"] != n_features:
        raise ValueError(f"the input encoding reads {spec['n_inputs']} columns, but "
                         f"n_features_in_ is {n_features}.")
    numeric, categorical = list(spec["numeric"]), list(spec["categorical"])
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != (n_features,) or sorted(numeric + categorical) != list(range(n_features)) \
            or not mask[categorical].all() or mask[numeric].any():
        raise ValueError("the input encoding's columns do not match is_categorical_.")
    if not set(spec["missing"]) <= set(numeric) or len(categories) != n_features:
        raise ValueError("the input encoding's missing-value indicators or categories are "
                         "inconsistent.")
    center, scale = np.asarray(spec["center"], float), np.asarray(spec["scale"], float)
    if center.shape != (len(numeric),) or scale.shape != (len(numeric),) \
            or not (np.isfinite(center).all() and (scale > 0).all()):  # inf: no spread at fit
        raise ValueError("the input encoding's centres and scales are not statistics of its "
                         "numeric columns (finite centres, positive scales).")
    if spec["clip"] is not None and not (isinstance(spec["clip"], float) and spec["clip"] > 0):
        raise ValueError("the input encoding's clip bound must be a positive number.")
    if len(spec["tables"]) != len(categorical):
        raise ValueError("the input encoding needs one table per categorical column.")
    for j, table in zip(categorical, spec["tables"]):
        table = np.asarray(table, float)
        if table.ndim != 2 or categories[j] is None or table.shape[0] != len(categories[j]) + 1 \
                or not np.isfinite(table).all():
            raise ValueError(f"the encoding table of column {j} does not fit its categories.")
