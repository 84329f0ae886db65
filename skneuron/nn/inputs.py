"""The input stage of a fitted network: from coded table rows to the features neurons read."""

from __future__ import annotations

import reprlib
from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["TabularInput"]


class TabularInput(nn.Module):
    """Impute, scale and one-hot encode rows of a table given as numbers.

    The input is a float tensor of ``n_inputs`` columns: numeric columns hold
    their values (``NaN`` where missing), categorical columns the index of
    their category (``NaN``, or any index outside the table, where missing or
    unknown). The output concatenates, in this order:

    - the numeric columns, ``(x − center) / scale``, smoothly clipped to
      ``(−clip, clip)`` by ``z / √(1 + (z/clip)²)`` when ``clip`` is set, and
      ``0`` (the centre) where missing, and ``0`` everywhere for a column
      whose scale is ``inf`` (one that did not vary at fit);
    - an indicator ``1.0`` / ``0.0`` of "missing" for each column in ``missing``;
    - for each categorical column, the row of its table that its category
      selects (the last row for a missing or unknown category).

    Every statistic is a buffer, so the module moves with ``.to(device)``, is
    part of the state dict and runs in the buffers' precision.

    Parameters
    ----------
    n_inputs : int
        Number of input columns.
    numeric : sequence of int
        Indices of the numeric columns.
    center, scale : array-like of shape (len(numeric),)
        Their centre and scale.
    clip : float, optional
        Bound of the smooth clipping of the scaled numeric values; none when None.
    missing : sequence of int, default=()
        Indices of the columns (numeric) that get a missing-value indicator.
    categorical : sequence of int, default=()
        Indices of the categorical columns.
    tables : sequence of array-like, default=()
        One table per categorical column, of shape ``(n_categories + 1, width)``.

    Examples
    --------
    >>> import torch
    >>> from skneuron.nn import TabularInput
    >>> encode = TabularInput(2, numeric=[0], center=[10.0], scale=[2.0], missing=[0],
    ...                       categorical=[1], tables=[[[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]])
    >>> encode(torch.tensor([[12.0, 0.0], [float("nan"), 1.0], [8.0, float("nan")]],
    ...                     dtype=torch.float64))
    tensor([[ 1.,  0.,  1.,  0.],
            [ 0.,  1.,  0.,  1.],
            [-1.,  0.,  0.,  0.]], dtype=torch.float64)
    """

    def __init__(
        self,
        n_inputs: int,
        numeric: Sequence[int],
        center,
        scale,
        *,
        clip: float | None = None,
        missing: Sequence[int] = (),
        categorical: Sequence[int] = (),
        tables: Sequence = (),
    ):
        super().__init__()
        if len(tables) != len(categorical):
            raise ValueError("TabularInput needs one table per categorical column.")
        self.n_inputs, self.clip = int(n_inputs), clip
        f64 = {"dtype": torch.float64}
        self.register_buffer("numeric", torch.as_tensor(list(numeric), dtype=torch.int64))
        self.register_buffer("center", torch.as_tensor(center, **f64).reshape(-1))
        self.register_buffer("scale", torch.as_tensor(scale, **f64).reshape(-1))
        self.register_buffer("missing", torch.as_tensor(list(missing), dtype=torch.int64))
        self.register_buffer("categorical", torch.as_tensor(list(categorical), dtype=torch.int64))
        # Python ints for indexing: a 0-d tensor index is a host sync per column on an
        # accelerator, and cannot index on the meta device.
        self._categorical = [int(column) for column in categorical]
        tables = [torch.as_tensor(table, **f64) for table in tables]
        # All tables in one buffer, stacked row-wise and padded to the widest.
        self.widths = [int(t.shape[1]) for t in tables]
        self._sizes = [int(t.shape[0]) - 1 for t in tables]
        self.register_buffer("sizes", torch.as_tensor(self._sizes, dtype=torch.int64))
        # The layout the stage was built with, which a loaded state must repeat (see
        # _load_from_state_dict): forward reads part of it as these Python copies.
        self._layout = {"numeric": [int(i) for i in numeric], "missing": [int(i) for i in missing],
                        "categorical": self._categorical, "sizes": self._sizes}
        width = max(self.widths, default=0)
        padded = [nn.functional.pad(t, (0, width - t.shape[1])) for t in tables]
        self.register_buffer("tables", torch.cat(padded) if padded else torch.zeros(0, 0, **f64))
        self._n_missing = len(missing)
        self.n_features = len(numeric) + len(missing) + sum(self.widths)

    @classmethod
    def standardizing(cls, mean, scale) -> TabularInput:
        """All columns numeric, standardised by ``mean`` and ``scale``, no missing values.

        Parameters
        ----------
        mean, scale : array-like of shape (n_inputs,)
            Each column's mean and standard deviation.

        Returns
        -------
        TabularInput

        Examples
        --------
        >>> import torch
        >>> TabularInput.standardizing([1.0], [2.0])(torch.tensor([[5.0]], dtype=torch.float64))
        tensor([[2.]], dtype=torch.float64)
        """
        mean = torch.as_tensor(mean, dtype=torch.float64).reshape(-1)
        return cls(len(mean), range(len(mean)), mean, scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Encoded features of coded rows ``x``.

        Parameters
        ----------
        x : torch.Tensor of shape (n_samples, n_inputs)
            Coded rows.

        Returns
        -------
        torch.Tensor of shape (n_samples, n_features)
            In ``x``'s dtype when it is floating point, else the buffers'.
        """
        if x.ndim != 2 or x.shape[1] != self.n_inputs:
            raise ValueError(f"TabularInput expects rows of {self.n_inputs} coded columns; "
                             f"got shape {tuple(x.shape)}.")
        dtype = x.dtype if x.is_floating_point() else self.center.dtype
        values = x.index_select(1, self.numeric).to(self.center.dtype)
        scaled = self._scaled(values, self.center, self.scale)
        absent = torch.isnan(values)
        parts = [torch.where(absent, torch.zeros_like(scaled), scaled).to(dtype)]
        if self._n_missing:
            parts.append(torch.isnan(x.index_select(1, self.missing)).to(dtype))
        start = 0
        for j, (column, width) in enumerate(zip(self._categorical, self.widths)):
            codes = x[:, column]
            size = self._sizes[j]
            known = (codes >= 0) & (codes < size)  # False for NaN too
            rows = torch.where(known, codes, size).to(torch.int64) + start
            parts.append(self.tables.index_select(0, rows)[:, :width].to(dtype))
            start += self._sizes[j] + 1
        return parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)

    def scale_numeric(self, values: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        """Scaled values of numeric columns, as :meth:`forward` scales them.

        For inputs given as values rather than rows (a sparse matrix's stored
        values): each value is scaled by the statistics of its column, with
        the same operations as in :meth:`forward`, so the results are the same
        to the bit. Missing values (``NaN``) stay ``NaN``.

        Parameters
        ----------
        values : torch.Tensor of shape (n_values,)
            Values, in the buffers' dtype.
        positions : torch.Tensor of int64, shape (n_values,)
            Each value's position in ``numeric`` (its output column).

        Returns
        -------
        torch.Tensor of shape (n_values,)

        Examples
        --------
        >>> import torch
        >>> encode = TabularInput.standardizing([1.0, 0.0], [2.0, 4.0])
        >>> encode.scale_numeric(torch.tensor([5.0, 2.0], dtype=torch.float64),
        ...                      torch.tensor([0, 1]))
        tensor([2.0000, 0.5000], dtype=torch.float64)
        """
        return self._scaled(values, self.center[positions], self.scale[positions])

    def _scaled(self, values: torch.Tensor, center: torch.Tensor, scale: torch.Tensor
                ) -> torch.Tensor:
        scaled = (values - center) / scale
        if self.clip is not None:
            scaled = scaled * torch.rsqrt(1.0 + (scaled / self.clip).square())
        return scaled

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict,
                              missing_keys, unexpected_keys, error_msgs):
        """Refuse a state whose column layout differs from this stage's.

        Which columns are numeric, flagged or categorical, and each table's
        number of categories, were fixed when the stage was built:
        :meth:`forward` reads the categorical columns and the tables' sizes
        and widths from Python copies made then, the rest from the buffers.
        A state of another layout (another stage's, or a crafted file's)
        would mix the two, so it is refused, and none of its values is copied
        (``load_state_dict`` raises at its end). A stage unpickled from before
        the check has no record of its layout and loads as it did.
        """
        refused = False
        for name, built in getattr(self, "_layout", {}).items():
            loaded = state_dict.get(prefix + name)
            if loaded is not None and not loaded.is_meta and loaded.tolist() != built:
                error_msgs.append(f"{prefix}{name}: the state's column layout "
                                  f"{reprlib.repr(loaded.tolist())} is not this stage's "
                                  f"{reprlib.repr(built)}.")
                refused = True
        if not refused:
            super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                          missing_keys, unexpected_keys, error_msgs)

    def extra_repr(self) -> str:
        return (f"n_inputs={self.n_inputs}, n_features={self.n_features}, "
                f"categorical={len(self.widths)}, clip={self.clip}")
