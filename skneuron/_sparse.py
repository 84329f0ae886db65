"""Sparse inputs: rows kept sparse in memory and densified a slice at a time.

A task neuron's terms (squares, interactions, waves) read its inputs after
standardisation, where a zero is no longer zero, so a network's first layer
needs dense rows. :class:`SparseRows` therefore keeps the sparse code matrix
as it is and hands out dense, encoded features only for the rows asked for —
a minibatch in training, a chunk in validation — so that memory grows with
the stored values and the minibatch, never with the dense matrix.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch

from skneuron.nn import TabularInput

__all__ = ["SparseRows"]

#: Most values of one densified chunk in a pass over many rows (validation,
#: the loss after a numerical fault): a wide matrix is read in fewer rows.
SPARSE_CHUNK_VALUES = 1 << 22


class SparseRows:
    """Rows of a sparse code matrix that become dense encoded features when sliced.

    The row source :func:`skneuron.training.fit_network` reads in place of a
    tensor ``X``: it has a ``shape``, a ``dtype`` and a ``device``,
    ``index_select(0, rows)`` reorders the rows (still sparse), and a slice
    ``rows[start:stop]`` is the dense tensor of those rows' features, the
    same to the bit as ``inputs`` gives for the dense rows.

    Parameters
    ----------
    codes : scipy.sparse.csr_matrix of shape (n_samples, n_inputs)
        The rows, all columns numeric (``NaN`` where missing).
    inputs : TabularInput
        The encoding; every input column must be numeric, in order.
    dtype : torch.dtype, default=torch.float64
        The dtype of the dense features.
    device : torch.device or str, default="cpu"
        Where the dense features are put.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> codes = sp.csr_matrix([[0.0, 2.0], [4.0, 0.0]])
    >>> rows = SparseRows(codes, TabularInput.standardizing([2.0, 1.0], [2.0, 1.0]))
    >>> rows.shape
    (2, 2)
    >>> rows[0:2]
    tensor([[-1.,  1.],
            [ 1., -1.]], dtype=torch.float64)
    """

    def __init__(self, codes: sp.csr_matrix, inputs: TabularInput, *,
                 dtype: torch.dtype = torch.float64, device="cpu"):
        if len(inputs.categorical) or inputs.numeric.tolist() != list(range(inputs.n_inputs)):
            raise ValueError("SparseRows needs an encoding whose every column is numeric.")
        self.codes, self.inputs = sp.csr_matrix(codes), inputs
        self.dtype, self.device = dtype, torch.device(device)
        with torch.inference_mode():
            zeros = torch.zeros((1, inputs.n_inputs), dtype=inputs.center.dtype)
            self._zero_row = inputs(zeros).to(dtype)  # every row starts as the zero row
        # The output column of each input's missing-value indicator (−1: it has none).
        self._indicator = np.full(inputs.n_inputs, -1, dtype=np.int64)
        self._indicator[inputs.missing.numpy()] = inputs.n_inputs + np.arange(len(inputs.missing))
        #: Rows per densified chunk in passes over many rows.
        self.chunk_rows = max(1, SPARSE_CHUNK_VALUES // max(inputs.n_features, 1))

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_samples, n_features)`` of the dense features."""
        return self.codes.shape[0], self.inputs.n_features

    def __len__(self) -> int:
        return self.codes.shape[0]

    def take(self, rows) -> SparseRows:
        """The rows ``rows`` (indices), still sparse, with the same encoding."""
        return self._like(self.codes[np.asarray(rows)])

    def index_select(self, dim: int, index: torch.Tensor) -> SparseRows:
        """``take`` for a tensor of row indices, as ``torch.Tensor.index_select`` on dim 0."""
        if dim != 0:
            raise ValueError("SparseRows selects rows (dim 0) only.")
        return self.take(index.cpu().numpy())

    def to(self, device=None, dtype: torch.dtype | None = None) -> SparseRows:
        """The same rows, densified to ``dtype`` on ``device``."""
        rows = SparseRows.__new__(SparseRows)
        rows.__dict__.update(self.__dict__)
        rows.device = self.device if device is None else torch.device(device)
        if dtype is not None:
            rows.dtype, rows._zero_row = dtype, self._zero_row.to(dtype)
        return rows

    def _like(self, codes: sp.csr_matrix) -> SparseRows:
        rows = self.to()
        rows.codes = codes
        return rows

    def __getitem__(self, rows: slice) -> torch.Tensor:
        """The dense features of the rows in the slice ``rows``."""
        if not isinstance(rows, slice):
            raise TypeError("SparseRows densifies slices of rows; use take() for indices.")
        part = self.codes[rows]
        n = part.shape[0]
        dense = self._zero_row.expand(n, -1).clone()
        row = torch.from_numpy(np.repeat(np.arange(n), np.diff(part.indptr)))
        column = torch.from_numpy(part.indices.astype(np.int64))
        values = torch.from_numpy(part.data).to(self.inputs.center.dtype)
        absent = torch.isnan(values)
        scaled = self.inputs.scale_numeric(values, column)
        dense[row, column] = torch.where(absent, torch.zeros_like(scaled), scaled).to(self.dtype)
        if absent.any():
            flagged = torch.from_numpy(self._indicator)[column[absent]]
            dense[row[absent], flagged] = 1.0
        return dense.to(self.device)

    def all_finite(self) -> bool:
        """Whether every feature of every row is finite (computed from the stored values)."""
        values = torch.from_numpy(self.codes.data).to(self.inputs.center.dtype)
        column = torch.from_numpy(self.codes.indices.astype(np.int64))
        scaled = self.inputs.scale_numeric(values, column)
        present = ~torch.isnan(values)
        return bool(torch.isfinite(self._zero_row).all() and torch.isfinite(scaled[present]).all())
