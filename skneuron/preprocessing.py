"""Default preprocessing of tables: numbers kept, categories one-hot encoded.

:class:`TabularEncoder` turns a table into a numeric matrix for estimators
that need one. skneuron's own estimators read tables themselves
(``categorical_features="from_dtype"``), so they do not need it; the
command line used it before they did, and model files of that time hold a
pipeline of it and an estimator. Its fitted state is plain data (medians,
category lists), so such a pipeline fits in the safe model format of
:mod:`skneuron.persistence`.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_array, check_is_fitted

from skneuron._tabular import refuse_empty

__all__ = ["TabularEncoder"]

#: Longest text kept as a category, in characters: longer values are free text, which
#: no indicator column would describe, and encode as an unseen category.
MAX_CATEGORY_LENGTH = 1000


class TabularEncoder(TransformerMixin, BaseEstimator):
    """Encode a data frame of numeric and categorical columns as a numeric matrix.

    Numeric columns (any numeric dtype except bool) pass through, their
    missing values replaced by the training median. Every other column is
    categorical and becomes one indicator column per category seen in
    ``fit`` (the ``max_categories`` most frequent ones); a missing or unseen
    category encodes as all zeros, as does text longer than
    ``MAX_CATEGORY_LENGTH`` (1000) characters. Values are compared as text, so
    ``1`` and ``"1"`` are the same category.

    Parameters
    ----------
    max_categories : int, default=50
        Most categories kept per column; rarer ones encode as unseen.

    Attributes
    ----------
    feature_names_in_ : ndarray of str
        Columns seen in ``fit``, in order.
    n_features_in_ : int
        Number of columns seen in ``fit``.
    medians_ : dict of str to float
        Training median of each numeric column.
    categories_ : dict of str to list of str
        Categories of each categorical column, in encoding order.

    Examples
    --------
    >>> import pandas as pd
    >>> from skneuron.preprocessing import TabularEncoder
    >>> df = pd.DataFrame({"size": [1.0, None, 3.0], "colour": ["red", "blue", "red"]})
    >>> enc = TabularEncoder().fit(df)
    >>> enc.transform(df)
    array([[1., 0., 1.],
           [2., 1., 0.],
           [3., 0., 1.]])
    >>> enc.get_feature_names_out().tolist()
    ['size', 'colour=blue', 'colour=red']
    """

    _parameter_constraints: dict = {"max_categories": [Interval(Integral, 1, None, closed="left")]}

    def __init__(self, max_categories: int = 50):
        self.max_categories = max_categories

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the medians and categories of the columns of ``X``.

        Parameters
        ----------
        X : pandas.DataFrame
            The table; a 2-D array is read as a table of unnamed columns.
        y : ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The fitted encoder.

        Raises
        ------
        ValueError
            If ``X`` is not 2-D, has no rows or no columns, or holds complex numbers.
        TypeError
            If ``X`` is sparse.

        Examples
        --------
        >>> import pandas as pd
        >>> from skneuron.preprocessing import TabularEncoder
        >>> df = pd.DataFrame({"size": [1.0, None, 3.0], "colour": ["red", "blue", "red"]})
        >>> enc = TabularEncoder().fit(df)
        >>> enc.medians_, enc.categories_
        ({'size': 2.0}, {'colour': ['blue', 'red']})
        """
        frame = self._table(X, reset=True)
        self.feature_names_in_ = np.asarray([str(c) for c in frame.columns], dtype=object)
        self.n_features_in_ = frame.shape[1]
        self.medians_, self.categories_ = {}, {}
        for name, column in zip(self.feature_names_in_, _columns(frame)):
            if _is_numeric(column):
                median = column.astype(float).median()
                self.medians_[name] = 0.0 if np.isnan(median) else float(median)
            else:
                counts = _as_text(column).value_counts()  # most frequent first
                kept = [c for c in counts.index if len(c) <= MAX_CATEGORY_LENGTH]
                self.categories_[name] = sorted(kept[: self.max_categories])
        return self

    def transform(self, X) -> np.ndarray:
        """Encode ``X``, which must hold the columns seen in ``fit`` (others are ignored).

        Parameters
        ----------
        X : pandas.DataFrame
            The table; columns are matched by name, in any order. A 2-D
            array is read as a table of unnamed columns, and must have as
            many as in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples, n_features_out)
            Numeric columns (missing values replaced by the training median),
            then one indicator column per category, in the order of
            :meth:`get_feature_names_out`.

        Raises
        ------
        ValueError
            If a column seen in ``fit`` is missing, a column that was
            numeric in ``fit`` holds text, an array has another number of
            columns than in ``fit``, or ``X`` is refused as in :meth:`fit`.
        TypeError
            If ``X`` is sparse.

        Examples
        --------
        >>> import pandas as pd
        >>> from skneuron.preprocessing import TabularEncoder
        >>> enc = TabularEncoder().fit(pd.DataFrame({"colour": ["red", "blue"], "size": [1, 2]}))
        >>> enc.transform(pd.DataFrame({"size": [5], "colour": ["green"]}))
        array([[0., 0., 5.]])
        """
        check_is_fitted(self)
        frame = self._table(X, reset=False)
        names = [str(c) for c in frame.columns]
        missing = [c for c in self.feature_names_in_ if c not in names]
        if missing:
            raise ValueError(f"X is missing the column(s) {missing} seen in fit.")
        frame = frame.set_axis(names, axis=1)
        # Filled in place: the output is the only n_samples x n_features_out block allocated.
        encoded = np.zeros((len(frame), self._n_features_out))
        start = 0
        for name in self.feature_names_in_:
            column = frame[name]
            if name in self.medians_:
                if not _is_numeric(column):
                    raise ValueError(f"column {name!r} was numeric in fit but holds text now.")
                values = column.to_numpy(dtype=np.float64, na_value=np.nan)
                encoded[:, start] = np.where(np.isnan(values), self.medians_[name], values)
                start += 1
            else:
                categories = self.categories_[name]
                _one_hot(_as_text(column), categories, encoded[:, start:start + len(categories)])
                start += len(categories)
        return encoded

    @property
    def _n_features_out(self) -> int:
        """Number of columns :meth:`transform` outputs."""
        return len(self.medians_) + sum(len(c) for c in self.categories_.values())

    def _table(self, X, *, reset: bool):
        """``X`` as a data frame, refused as scikit-learn refuses input it cannot take.

        A data frame is used as it is (its dtypes kept); anything else goes
        through :func:`~sklearn.utils.validation.check_array`, and at
        ``transform`` must have the ``n_features_in_`` columns of ``fit``.
        Either must be 2-D, dense, not complex, with a row and a column.
        """
        import pandas as pd

        if sp.issparse(X):
            raise TypeError("TabularEncoder does not support sparse input; pass a data frame "
                            "or a dense array (X.toarray()).")
        if isinstance(X, pd.DataFrame):
            frame = X
            complex_columns = [str(c) for c, dtype in X.dtypes.items()
                               if pd.api.types.is_complex_dtype(dtype)]
            if complex_columns:
                raise ValueError(f"Complex data not supported: column(s) {complex_columns[:5]}.")
        else:
            array = check_array(X, dtype=None, ensure_all_finite=False, ensure_min_samples=0,
                                ensure_min_features=0, input_name="X")
            if not reset and array.shape[1] != self.n_features_in_:
                raise ValueError(f"X has {array.shape[1]} features, but {type(self).__name__} "
                                 f"is expecting {self.n_features_in_} features as input.")
            frame = pd.DataFrame(array)
        refuse_empty(frame.shape, type(self).__name__)
        return frame

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Names of the encoded columns: ``name`` or ``name=category``.

        Parameters
        ----------
        input_features : ignored
            Accepted for scikit-learn's API; the names are those seen in ``fit``.

        Returns
        -------
        ndarray of str
            One name per column of :meth:`transform`'s output.

        Examples
        --------
        >>> import pandas as pd
        >>> from skneuron.preprocessing import TabularEncoder
        >>> enc = TabularEncoder().fit(pd.DataFrame({"colour": ["red", "blue"], "size": [1, 2]}))
        >>> enc.get_feature_names_out().tolist()
        ['colour=blue', 'colour=red', 'size']
        """
        check_is_fitted(self)
        names = []
        for name in self.feature_names_in_:
            if name in self.medians_:
                names.append(name)
            else:
                names += [f"{name}={category}" for category in self.categories_[name]]
        return np.asarray(names, dtype=object)

    def _restore_fitted(self, state_dicts: dict) -> None:
        """Check an encoder rebuilt from a model file: the hook of :mod:`skneuron.persistence`.

        Its parameters, and fitted state that ``transform`` can use and
        ``fit`` could have produced: every column named once, numeric with a
        median or categorical with at most ``max_categories`` distinct text
        categories of at most ``MAX_CATEGORY_LENGTH`` characters, so a file
        cannot make the output wider than ``fit`` would have. Raises
        ValueError otherwise.
        """
        self._validate_params()
        names, medians, categories = self.feature_names_in_, self.medians_, self.categories_
        valid = (
            not state_dicts and isinstance(names, np.ndarray) and names.ndim == 1
            and all(isinstance(name, str) for name in names) and len(set(names)) == len(names)
            and self.n_features_in_ == len(names)
            and isinstance(medians, dict) and isinstance(categories, dict)
            and set(medians) | set(categories) == set(names) and not set(medians) & set(categories)
            and all(isinstance(m, float) for m in medians.values())
            and all(isinstance(c, list) and len(set(c)) == len(c)
                    and all(isinstance(t, str) and len(t) <= MAX_CATEGORY_LENGTH for t in c)
                    for c in categories.values()))
        if not valid:
            raise ValueError("the TabularEncoder's fitted columns, medians and categories do "
                             "not fit together.")
        widest = max(categories, key=lambda name: len(categories[name]), default=None)
        if widest is not None and len(categories[widest]) > self.max_categories:
            raise ValueError(
                f"the TabularEncoder's column {widest[:80]!r} has {len(categories[widest]):,} "
                f"categories, more than its max_categories={self.max_categories} that fit keeps.")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        return tags


def _columns(frame):
    return [frame.iloc[:, i] for i in range(frame.shape[1])]


def _is_numeric(column) -> bool:
    import pandas as pd

    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def _one_hot(text, categories: list[str], out: np.ndarray) -> None:
    """Set the indicator columns of ``categories`` for a column of text in ``out`` (zeros).

    None matches no category. Looked up by hashing: comparing as numpy text
    arrays would make every category as wide as the longest one.
    """
    index = {category: i for i, category in enumerate(categories)}
    codes = text.map(index).to_numpy(dtype=np.float64, na_value=np.nan)
    rows = np.flatnonzero(~np.isnan(codes))
    out[rows, codes[rows].astype(np.intp)] = 1.0


def _as_text(column):
    """Categories as text; missing values become None (matching no category)."""
    return column.astype(object).where(column.notna(), None).map(
        lambda v: None if v is None else str(v)
    )
