"""The evaluation cache of SR discovery: every distinct term met, and its feature.

A term's feature is ``S_φ = Σ_i φ(x_i)`` on the used rows, computed by the
element-wise interpreter the network uses
(:func:`~skneuron._elementwise.evaluate_elementwise`) and stored
standardised. Terms whose features are equal up to an affine map on the
data — which least squares cannot tell apart — form one *term class*, named
by its simplest member; candidates are built from class ids.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs

from skneuron._elementwise import evaluate_elementwise
from skneuron.discovery._common import CLIP
from skneuron.discovery.sr._trees import (
    LEAF,
    CanonicalTerm,
    canonical_terms,
    from_sympy,
    magnitude,
    program,
)

__all__ = ["TermLibrary", "term_sums"]

# Largest magnitude a term may reach on [-CLIP, CLIP]: exp(x) (148) and x**3
# (125) pass, exp(2*x), x**3*exp(x) or exp(exp(x)) do not.
_MAX_MAGNITUDE = 1e3
# Rough cap on memory of one batched term evaluation (float64 values).
_EVAL_BYTES = 2**27
# A batch that fits in one chunk is still split between threads, into this many
# chunks, when it holds more than this many values (terms × rows).
_PARALLEL_VALUES = 4e6
_PARALLEL_CHUNKS = 4


def term_sums(programs, x: np.ndarray, clipped: np.ndarray, shared: dict) -> np.ndarray:
    """``Σ_i φ(x_i)`` for every compiled program; shape ``(len(programs), n)``.

    As in the network's layers, the linear term sees ``x`` itself and every
    other term the input clamped to ``±CLIP`` (``clipped``). Sub-programs
    shared by several programs are evaluated once; ``shared`` holds values
    kept across calls (the clamped input and its low powers) and is not
    modified.
    """
    memo = dict(shared)
    out = np.empty((len(programs), x.shape[0]))
    for j, term_program in enumerate(programs):
        if term_program == LEAF:
            out[j] = x.sum(axis=1)
            continue
        with np.errstate(all="ignore"):
            out[j] = evaluate_elementwise(term_program, clipped, memo=memo).sum(axis=1)
    return out


class TermLibrary:
    """The term classes of one search and their standardised features.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        The used rows, in the units searched.
    row_order : ndarray of shape (n_samples,)
        The order the features' values are stored in (fold after fold).
    functions : tuple of str
        The base functions trees may use.
    max_complexity, max_order, max_nesting : int
        Limits on a term (see :func:`~skneuron.discovery.discover_sr`).
    n_jobs : int or None
        Threads evaluating a large batch of new terms.

    Attributes
    ----------
    names, complexity, trees : list
        By class id: the simplest member's text, complexity and tree (None
        if no tree over ``functions`` builds it alone).
    features : ndarray of shape (capacity, n_samples)
        Row ``t`` is class ``t``'s standardised feature, rows in ``row_order``.
    feature_mean, feature_scale : ndarray of shape (capacity,)
        The mean and standard deviation each feature was standardised by.
    n_terms_evaluated : int
        Canonical terms evaluated on the data so far.
    on_rename : callable
        Called when a class gets a simpler name (so its complexity changes).
    """

    def __init__(self, X, row_order, *, functions, max_complexity, max_order, max_nesting,
                 n_jobs):
        self.functions, self.max_complexity, self.max_order = functions, max_complexity, max_order
        self.max_nesting = max_nesting
        self.n_jobs = n_jobs
        self.x = X
        self.clipped = np.clip(X, -CLIP, CLIP)
        self.shared = {LEAF: self.clipped}
        for k in range(2, max_order + 1):  # the low powers most terms are built on
            evaluate_elementwise(("pow", LEAF, float(k)), self.clipped, memo=self.shared)
        self.row_order = row_order
        self.tree_terms: dict = {}  # tree -> tuple of class ids (its canonical monomials)
        self.term_class: dict[str, int] = {}  # canonical term text -> class id (or -1: invalid)
        self.fingerprints: dict[bytes, int] = {}
        self.names: list[str] = []
        self.complexity: list[int] = []
        self.trees: list = []
        self.features = np.empty((64, len(X)))
        self.feature_mean: np.ndarray = np.empty(64)
        self.feature_scale: np.ndarray = np.empty(64)
        self.n_terms_evaluated = 0
        self.on_rename: Callable[[], None] = lambda: None

    def __len__(self) -> int:
        return len(self.names)

    def _valid(self, term: CanonicalTerm) -> bool:
        return (term.max_power <= self.max_order and term.max_number <= 2 * self.max_order
                and term.complexity <= self.max_complexity and term.nesting <= self.max_nesting)

    def resolve(self, trees) -> list[tuple[int, ...]]:
        """Class ids of each tree's terms, creating and evaluating new classes."""
        new_trees = [t for t in dict.fromkeys(trees) if t not in self.tree_terms]
        canonical = {t: [term for term in canonical_terms(t) if self._valid(term)]
                     for t in new_trees}
        pending: dict[str, tuple] = {}  # new canonical text -> (term, tree)
        for tree in new_trees:
            terms = canonical[tree]
            for term in terms:
                if term.text not in self.term_class and term.text not in pending:
                    pending[term.text] = (term, tree if len(terms) == 1 else None)
        if pending:
            self._add_classes(pending)
        for tree in new_trees:
            ids = [self.term_class[term.text] for term in canonical[tree]]
            self.tree_terms[tree] = tuple(sorted({i for i in ids if i >= 0}))
        return [self.tree_terms[t] for t in trees]

    def _add_classes(self, pending: dict) -> None:
        """Evaluate new canonical terms and file each under a new or a known class."""
        texts = [text for text in pending if self._bounded(text, pending[text][0])]
        if not texts:
            return
        values = self._evaluate([program(pending[t][0].expr) for t in texts])
        self.n_terms_evaluated += len(texts)
        for text, value in zip(texts, values):
            term, tree = pending[text]
            mean, scale = value.mean(), value.std()
            if not (np.isfinite(scale) and scale > 1e-9 * max(np.abs(mean), 1.0)):
                self.term_class[text] = -1  # constant or non-finite on the data
                continue
            self.term_class[text] = self._file(term, tree, value, mean, scale)

    def _bounded(self, text: str, term: CanonicalTerm) -> bool:
        """Whether a term stays below the magnitude limit (if not, it is marked invalid)."""
        try:
            largest = magnitude(term.expr)
        except ValueError:  # an operation the network cannot evaluate
            largest = math.inf
        if largest <= _MAX_MAGNITUDE:
            return True
        self.term_class[text] = -1  # e.g. exp(exp(x)): no use to a network, and a hazard
        return False

    def _file(self, term: CanonicalTerm, tree, value, mean, scale) -> int:
        """The class of a term's feature: a known one (renamed if simpler) or a new one."""
        z = (value - mean) / scale
        key = np.round(z[:512] * (1.0 if z[0] >= 0 else -1.0), 6).tobytes()
        text, complexity = term.text, term.complexity
        if tree is None:
            tree = from_sympy(term.expr, self.functions)
        cid = self.fingerprints.get(key)
        if cid is None:
            cid = len(self.names)
            self.fingerprints[key] = cid
            self.names.append(text)
            self.complexity.append(complexity)
            self.trees.append(tree)
            self._store(cid, z[self.row_order], mean, scale)
        elif (complexity, len(text), text) < (self.complexity[cid], len(self.names[cid]),
                                              self.names[cid]):
            # A simpler form of a known term: it becomes the class's name.
            self.names[cid], self.complexity[cid] = text, complexity
            self.trees[cid] = tree if tree is not None else self.trees[cid]
            self.on_rename()
        return cid

    def _store(self, cid, z, mean, scale):
        if cid >= len(self.features):
            grow = len(self.features)
            self.features = np.concatenate([self.features, np.empty((grow, z.size))])
            self.feature_mean = np.concatenate([self.feature_mean, np.empty(grow)])
            self.feature_scale = np.concatenate([self.feature_scale, np.empty(grow)])
        self.features[cid] = z
        self.feature_mean[cid], self.feature_scale[cid] = mean, scale

    def _evaluate(self, programs) -> np.ndarray:
        """:func:`term_sums` of many programs, in memory-bounded chunks, threaded if allowed."""
        per_program = self.x.size * 8 * 4  # a few intermediate arrays per program
        chunk = max(1, min(len(programs), _EVAL_BYTES // per_program))
        chunks = [programs[i:i + chunk] for i in range(0, len(programs), chunk)]
        n_jobs = effective_n_jobs(self.n_jobs)  # None: 1, or a joblib.parallel_config's
        if len(chunks) == 1 and n_jobs > 1 and len(programs) * self.x.size > _PARALLEL_VALUES:
            size = math.ceil(len(programs) / _PARALLEL_CHUNKS)
            chunks = [programs[i:i + size] for i in range(0, len(programs), size)]
        if len(chunks) > 1 and n_jobs > 1:
            parts = Parallel(n_jobs=n_jobs, require="sharedmem")(
                delayed(term_sums)(c, self.x, self.clipped, self.shared) for c in chunks)
        else:
            parts = [term_sums(c, self.x, self.clipped, self.shared) for c in chunks]
        return np.concatenate(parts, axis=0)
