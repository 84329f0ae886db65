"""The scikit-learn face: :class:`TaskNeuronRegressor` and :class:`TaskNeuronClassifier`.

A shared base holds the fit pipeline — validate → standardise → discover →
build → train — and the two task classes only say how their targets are
encoded, which loss is minimised and how outputs become predictions.
"""

from __future__ import annotations

import inspect
import itertools
import reprlib
import sys
import warnings
from abc import ABC, abstractmethod
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, _fit_context
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, InvalidParameterError, StrOptions
from sklearn.utils.multiclass import check_classification_targets, is_multilabel, type_of_target
from sklearn.utils.validation import (
    _check_sample_weight,
    _check_y,
    check_consistent_length,
    check_is_fitted,
    validate_data,
)

from skneuron import _tabular
from skneuron._adam import Adam
from skneuron._device import (
    accelerator_pass_rows,
    activation_width,
    place,
    resolve_device,
    stage_dtype,
    usable_device,
)
from skneuron._docs import API_PAGE_TEMPLATE
from skneuron._sparse import SparseRows
from skneuron.discovery import METHODS, MIN_SAMPLES, DiscoveryResult, discover_formula
from skneuron.formula import MAX_FREQUENCIES, MAX_RANK, NeuronFormula
from skneuron.nn import ACTIVATIONS, Standardized, TabularInput, TaskNeuronNetwork
from skneuron.persistence import register_loadable, storage_problem
from skneuron.training import fit_network, print_progress, thread_budget

__all__ = ["TaskNeuronClassifier", "TaskNeuronRegressor"]

#: ``early_stopping="auto"`` holds out validation rows above this many rows
#: (HistGradientBoosting's rule). There a tenth of the rows is enough to judge
#: by, and task neurons, richer than linear ones, can otherwise overfit (the full
#: benchmark suite's 20 000-row sets, ``benchmarks/results/summary_full.md``).
AUTO_EARLY_STOPPING_ROWS = 10_000

#: ``early_stopping="auto"`` validates each member on its own fold (cross-fitting)
#: when every fold has at least this many rows.
MIN_FOLD_ROWS = 20

#: Most waves (continuous inputs × frequencies) of the periodic term ``periodic`` adds
#: to a discovered formula: each wave is an input of every first-layer neuron.
PERIODIC_WAVE_BUDGET = 512
#: Frequencies of the periodic candidate discovery judges when ``periodic=0``.
DEFAULT_CANDIDATE_FREQUENCIES = 8

#: With sparse ``X``, discovery reads a dense random subsample of the training rows of at
#: most this many values (and at least :data:`~skneuron.discovery.MIN_SAMPLES` rows); all
#: of them when they fit, as for dense ``X``. The discovery methods subsample further
#: (``max_samples``: 3000 rows for TD, 2000 for SR).
SPARSE_DISCOVERY_VALUES = 1 << 24

#: A ``fit`` on at most this many training rows trains the network's body in float64
#: (where the device has it); larger fits, and every ``partial_fit``, in float32. On so
#: few rows float64 costs little, and training then solves its problem to float64
#: rounding: a sample weight of ``k`` and ``k`` copies of a row give the same network,
#: where float32's rounding of the two sums, carried through the Adam steps on
#: separable classes, moves the probabilities by up to about 2e-6 (relative).
FLOAT64_TRAINING_ROWS = 64

#: How numeric input columns are scaled (see :func:`skneuron._tabular.input_encoding`).
INPUT_SCALING = "standard"

#: Rows per forward pass in predict on the CPU, so inference memory stays bounded.
PREDICT_CHUNK_ROWS = 65_536
#: Cap on the values of one layer's activations per forward pass in predict on the
#: CPU, so a chunk's activations stay in the CPU caches, where smaller chunks ran
#: faster than 2**22 values; below 2**20 each pass's fixed costs (the input stage's
#: per-column steps) add up again on wide networks, which get fewer rows. On an
#: accelerator a chunk is far larger (:data:`skneuron._device.ACCELERATOR_PASS_VALUES`),
#: so that host↔device copies and kernel launches do not dominate.
PREDICT_CHUNK_VALUES = 1 << 20
#: Predict pads each forward pass to a whole number of blocks of this many rows.
#: BLAS computes a matrix product's rows in tiles and a partial last tile takes
#: another kernel, whose float32 rounding differs; in whole blocks every row's
#: value is the same however the rows are batched (exactly, on the CPUs tested).
PREDICT_ROW_BLOCK = 64


def _is_number(value) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def _is_numbers(value) -> bool:
    return isinstance(value, list) and all(_is_number(v) for v in value)


def _is_count(value) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool) and value >= 0


def _is_vector(kinds: str):
    """A check: a 1-D numpy array whose dtype is of one of ``kinds`` (numpy's letters)."""
    return lambda value: isinstance(value, np.ndarray) and value.ndim == 1 \
        and value.dtype.kind in kinds


def _are_labels(value) -> bool:
    """A 1-D array of distinct labels in sorted order, as ``np.unique`` gives them."""
    if not _is_vector("biufUO")(value):
        return False
    try:
        return np.array_equal(np.unique(value), value)
    except TypeError:  # labels that do not sort
        return False


#: The fitted attributes a model file sets, other than the network and the input encoding
#: (checked when it is built): what each must be, and whether every fitted model has it.
_FITTED_ATTRIBUTES = {
    "formula_": (lambda v: isinstance(v, NeuronFormula), "a NeuronFormula", True),
    "discovery_": (lambda v: v is None or isinstance(v, DiscoveryResult),
                   "a DiscoveryResult or None", True),
    "device_": (lambda v: isinstance(v, torch.device), "a device", True),
    "n_features_in_": (lambda v: _is_count(v) and v >= 1, "a positive integer", True),
    "n_iter_": (_is_count, "a non-negative integer", True),
    "loss_curve_": (_is_numbers, "a list of numbers", True),
    "validation_scores_": (lambda v: v is None or _is_numbers(v), "a list of numbers or None",
                           True),
    "best_loss_": (_is_number, "a number", False),
    "_optimizer": (lambda v: v is None or isinstance(v, Adam) or Adam.is_state_dict(v),
                   "None or an optimiser state (Adam.state_dict())", False),
    "best_validation_score_": (_is_number, "a number", False),
    "do_early_stopping_": (lambda v: isinstance(v, bool), "a boolean", False),
    "feature_names_in_": (_is_vector("UO"), "a 1-D array of names", False),
    "_numeric_kinds": (lambda v: isinstance(v, list) and all(
        k is None or k in _tabular.NUMERIC_KINDS for k in v), "a list of column kinds", False),
}


class BaseTaskNeuron(BaseEstimator, ABC):
    """Shared fit pipeline of the task-neuron estimators. Not for direct use."""

    # The HTML repr in Jupyter links to our API pages (scikit-learn's mechanism).
    _doc_link_module = "skneuron"
    _doc_link_template = API_PAGE_TEMPLATE
    #: Training state that model files leave out (see :mod:`skneuron.persistence`).
    _transient_attributes = ("_optimizer",)
    #: Fitted attributes a model file sets: ``{name: (check, what it must be, required)}``.
    _fitted_attributes = _FITTED_ATTRIBUTES

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "categorical_features": ["array-like", StrOptions({"from_dtype"}), None],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "formula": [str, NeuronFormula],
        "discovery": [StrOptions(set(METHODS))],
        "discovery_params": [dict, None],
        "max_order": [Interval(Integral, 1, 6, closed="both")],
        "rank": [Interval(Integral, 1, MAX_RANK, closed="both")],
        "n_members": [Interval(Integral, 1, None, closed="left")],
        "periodic": [Interval(Integral, 0, MAX_FREQUENCIES, closed="both")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "early_stopping": [StrOptions({"auto"}), "boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "device": [str, torch.device],
        "compile": ["boolean"],
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        formula="auto",
        categorical_features="from_dtype",
        discovery="td",
        discovery_params=None,
        max_order=3,
        rank=8,
        n_members=4,
        periodic=8,
        alpha=1e-4,
        batch_size="auto",
        learning_rate_init=1e-3,
        max_iter=200,
        tol=1e-4,
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=10,
        random_state=None,
        verbose=False,
        warm_start=False,
        device="auto",
        compile=False,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.formula = formula
        self.categorical_features = categorical_features
        self.discovery = discovery
        self.discovery_params = discovery_params
        self.max_order = max_order
        self.rank = rank
        self.n_members = n_members
        self.periodic = periodic
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.tol = tol
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.device = device
        self.compile = compile

    # ------------------------------------------------------------- task hooks
    @abstractmethod
    def _validate_targets(self, y, reset: bool, *, incremental: bool = False, classes=None):
        """Validate ``y``; return it as an array (and set task attributes on ``reset``).

        ``incremental`` marks a :meth:`partial_fit` call, whose first batch need
        not show every class or the target's whole range; ``classes`` are the
        classifier's ``partial_fit`` labels.
        """

    @abstractmethod
    def _encode_targets(self, y) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(training targets, discovery targets)`` for validated ``y``."""

    @abstractmethod
    def _loss_and_gradient(self, outputs: torch.Tensor, targets: torch.Tensor):
        """Per-sample training losses and their gradients with respect to ``outputs``.

        The gradients are written out, not left to autograd: that is cheaper
        per minibatch (``tests/test_estimators.py`` checks them).
        """

    def _loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Per-sample training loss."""
        return self._loss_and_gradient(outputs, targets)[0]

    @abstractmethod
    def _validation_score(self, outputs: torch.Tensor, targets: torch.Tensor,
                          weights: torch.Tensor | None = None) -> torch.Tensor:
        """Score monitored by early stopping (higher is better): a scalar, or one per
        member when ``weights`` of shape (members, n) weigh the rows per member."""

    @abstractmethod
    def _n_network_outputs(self) -> int:
        """Width of the network's output layer."""

    @abstractmethod
    def _target_dtype(self) -> torch.dtype:
        """Torch dtype of the training targets."""

    def _output_scaling(self):
        """``(mean, scale)`` mapping network outputs to the target scale, or ``(None, None)``."""
        return None, None

    def _learn_target_scaling(self, y, sample_weight, *, incremental=False) -> None:
        """Learn how targets are scaled for training, from the (weighted) training rows
        (of a first ``partial_fit`` batch when ``incremental``)."""

    def _stratify(self, targets):
        """Labels to stratify the early-stopping split by, or None."""
        return None

    # ------------------------------------------------------------------- fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Discover a neuron formula (unless given), then train the network.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training inputs. They are standardised internally, so no scaler
            is needed in front of the estimator. A scipy sparse matrix or
            array (CSR or CSC; other formats are converted to CSR) stays
            sparse: its columns are all numeric, and each minibatch is
            densified only when it is trained on.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weights of the samples; rows of weight zero are
            dropped. The weights enter the scaling of the inputs and of the
            regression target, TD discovery, the training loss and the
            early-stopping score (see ``docs/method.md``, "Sample weights").

        Returns
        -------
        self : object
            The fitted estimator.

        Examples
        --------
        >>> from sklearn.datasets import make_friedman1
        >>> from skneuron import TaskNeuronRegressor
        >>> X, y = make_friedman1(n_samples=300, random_state=0)
        >>> reg = TaskNeuronRegressor(max_iter=20, random_state=0).fit(X, y)
        >>> reg.n_iter_, reg.formula_.is_linear
        (20, False)
        """
        return self._fit_keeping_state_on_failure(X, y, sample_weight)

    def _fit_keeping_state_on_failure(self, X, y, sample_weight, **options):
        previous_state = dict(self.__dict__)
        try:
            return self._fit(X, y, sample_weight, **options)
        except BaseException:
            # A fit that raises — refused input or parameters, or an interruption outside
            # training (which keeps its best weights itself), e.g. in discovery — goes back
            # to what the estimator was: a fitted model stays usable and consistent (not
            # the new input's n_features_in_ over the old network), an unfitted one unfitted.
            self.__dict__.clear()
            self.__dict__.update(previous_state)
            raise

    def _partial_fit(self, X, y, sample_weight, classes=None):
        return self._fit_keeping_state_on_failure(X, y, sample_weight, incremental=True,
                                                    classes=classes)

    def _fit(self, X, y, sample_weight, *, incremental=False, classes=None):
        """``fit`` (a whole training run), or with ``incremental`` one ``partial_fit`` epoch."""
        continuing = hasattr(self, "network_") and (self.warm_start or incremental)
        self._check_discovery_params()
        if continuing:
            self._check_network_matches_params()
        X = self._validate_input(X, y, reset=not continuing)
        y = self._validate_targets(y, reset=not continuing, incremental=incremental,
                                   classes=classes)
        check_consistent_length(X, y)
        sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64,
                                             ensure_non_negative=True)
        kept = sample_weight > 0  # a row of zero weight is a row removed
        if not kept.all():
            X, y, sample_weight = X[kept], y[kept], sample_weight[kept]
            if not continuing and self.is_categorical_.any():  # its categories too
                X, self.categories_ = _tabular.keep_seen_categories(
                    X, self.is_categorical_, self.categories_)
        given_weight = sample_weight  # also when equal: the L2 penalty's scale reads them
        sample_weight = _uniform_as_none(sample_weight)
        if not continuing:
            self._learn_target_scaling(y, sample_weight, incremental=incremental)
        _hidden_sizes(self.hidden_layer_sizes)  # fail early on a bad value
        rng = check_random_state(self.random_state)
        discovery_seed, init_seed, split_seed, shuffle_seed = rng.randint(np.iinfo(np.int32).max, size=4)
        try:
            self.device_ = resolve_device(self.device)
        except ValueError as exc:
            raise InvalidParameterError(
                f"The 'device' parameter of {type(self).__name__} is invalid: {exc}") from None
        targets, discovery_targets = self._encode_targets(y)

        if not continuing:
            self._input_encoding = _tabular.input_encoding(
                X, self.is_categorical_, self.categories_, scaling=INPUT_SCALING,
                feature_names=getattr(self, "feature_names_in_", None),
                sample_weight=sample_weight)
        X_std = self._encoded(X)

        self.do_early_stopping_ = self._holds_out_rows(X.shape[0], incremental)
        train, weights, validation = self._split(targets, sample_weight, split_seed)
        optimizer = None
        if not continuing:
            self._start_network(X_std, discovery_targets, sample_weight, train,
                                discovery_seed, init_seed, incremental=incremental)
        elif incremental:  # the same optimisation goes on: Adam's moments and step count
            optimizer = self._continued_optimizer()
            # One seed per call: with an int random_state, equal batches still shuffle anew.
            shuffle_seed = np.random.SeedSequence([int(shuffle_seed), self.n_iter_]) \
                .generate_state(1)[0] % np.iinfo(np.int32).max

        history = self._train(X_std, targets, train, weights, validation, shuffle_seed,
                              total_weight=given_weight[train].sum(), optimizer=optimizer,
                              epochs=1 if incremental else None)
        self._record(history)
        return self

    def _holds_out_rows(self, n_samples: int, incremental: bool) -> bool:
        """Whether this fit holds rows out to stop early (``do_early_stopping_``)."""
        if incremental:  # no held-out rows: each batch is seen once per call
            return False
        if isinstance(self.early_stopping, str):  # "auto"
            cross_fitted = self.n_members > 1 and n_samples >= self.n_members * MIN_FOLD_ROWS
            return cross_fitted or n_samples > AUTO_EARLY_STOPPING_ROWS
        return bool(self.early_stopping)

    def _start_network(self, X_std, discovery_targets, sample_weight, train, discovery_seed,
                       init_seed, *, incremental: bool) -> None:
        """Discover the formula (unless given), build the network in the precision it
        trains in, and start an empty history."""
        self.formula_, self.discovery_ = self._resolve_formula(
            *_discovery_data(X_std, discovery_targets, sample_weight, train, discovery_seed),
            discovery_seed
        )
        # What the network is built of; a model rebuilt from its weights (pickle,
        # skneuron.load) reads it here, not from parameters set since.
        self._architecture = (_hidden_sizes(self.hidden_layer_sizes), self.activation,
                              self.n_members)
        self.network_ = self._build_network(init_seed)
        # The body's precision is chosen once, here: later fits continue in it.
        small = not incremental and len(train) <= FLOAT64_TRAINING_ROWS
        self.network_.body.to(dtype=torch.float64 if small else torch.float32)
        self.loss_curve_, self.n_iter_ = [], 0
        self.validation_scores_ = None

    def _record(self, history) -> None:
        """Add a training run's history to the fitted attributes."""
        self._optimizer = history.optimizer
        self.loss_curve_ += history.loss_curve
        self.n_iter_ += history.n_iter
        self.best_loss_ = min(self.loss_curve_) if self.loss_curve_ else np.inf
        if self.do_early_stopping_:
            self.validation_scores_ = (self.validation_scores_ or []) + history.validation_scores
            self.best_validation_score_ = max(self.validation_scores_, default=-np.inf)

    def _check_discovery_params(self):
        """Refuse ``discovery_params`` keys the discovery function does not take."""
        params = self.discovery_params or {}
        if not params:
            return
        # passed by the estimator itself
        shared = {"max_order", "rank", "random_state", "periodic_inputs"}
        signature = inspect.signature(METHODS[self.discovery]).parameters
        taken = set(signature) - {"X", "Y", "sample_weight"}  # fit passes the weights
        name = type(self).__name__
        if "sample_weight" in params:
            raise InvalidParameterError(
                f"The 'discovery_params' parameter of {name} sets 'sample_weight'; pass the "
                "weights to fit, which gives them to discovery too.")
        if shared & set(params):
            raise InvalidParameterError(
                f"The 'discovery_params' parameter of {name} sets {sorted(shared & set(params))}, "
                "which are parameters of the estimator itself; set them there instead.")
        unknown = set(params) - taken
        if unknown and not any(p.kind is p.VAR_KEYWORD for p in signature.values()):
            raise InvalidParameterError(
                f"The 'discovery_params' parameter of {name} has keys {sorted(unknown)} that "
                f"discovery={self.discovery!r} does not take; it takes {sorted(taken - shared)}.")

    def _check_network_matches_params(self) -> None:
        """Refuse to continue training (``warm_start``, ``partial_fit``) a network other
        than the one the parameters describe now: its hidden layers, activation and
        members, as the network records them."""
        body = self.network_.body
        if (body.hidden_layer_sizes, body.activation, body.members) != (
                _hidden_sizes(self.hidden_layer_sizes), self.activation, self.n_members):
            raise ValueError(
                f"{type(self).__name__} continues training its fitted network (warm_start or "
                "partial_fit), but hidden_layer_sizes, activation or n_members now describe "
                "another; set them back, or fit anew with warm_start=False.")

    def _split(self, targets, sample_weight, seed):
        """The training rows, their weights and the validation data, as row indices.

        Returns ``(train, weights, validation)``: ``weights`` is None, the
        sample weights of ``train``, or with several members one row of
        weights per member; ``validation`` is None or ``(rows, weights)``:
        the held-out rows and their sample weights (None when equal), or with
        several members one row of each per member, its fold's rows — each
        member is validated on the fold it does not train on (cross-fitting:
        every row trains all members but one and validates that one). Folds
        one row short of the largest are padded with a row of weight zero.
        """
        rows = np.arange(len(targets))
        if not self.do_early_stopping_:
            return rows, sample_weight, None
        if self.n_members > 1:
            folds = self._folds(targets, seed)
            in_fold = folds[None, :] == np.arange(self.n_members)[:, None]
            weight = np.ones(len(rows)) if sample_weight is None else sample_weight
            return rows, np.where(in_fold, 0.0, weight), _member_folds(in_fold, weight)
        stratify = self._stratify(targets)
        try:
            train, val = train_test_split(rows, test_size=self.validation_fraction,
                                          random_state=seed, stratify=stratify)
        except ValueError:  # a class too small to stratify: split without it
            train, val = train_test_split(rows, test_size=self.validation_fraction,
                                          random_state=seed)
        if len(val) < 2:
            raise ValueError(
                f"The validation set is too small ({len(val)} rows) for early stopping; "
                "increase validation_fraction or set early_stopping=False."
            )
        if sample_weight is None:
            return train, None, (val, None)
        return train, sample_weight[train], (val, sample_weight[val])

    def _folds(self, targets, seed) -> np.ndarray:
        """The fold of every row, one fold per member (stratified for classifiers)."""
        k = self.n_members
        if len(targets) < 2 * k:
            raise ValueError(f"{len(targets)} samples are too few to give each of the "
                             f"{k} members a validation fold; lower n_members or set "
                             "early_stopping=False.")
        stratify = self._stratify(targets)
        folds = np.empty(len(targets), dtype=np.int64)
        splitter = StratifiedKFold(k, shuffle=True, random_state=seed)
        if stratify is None or np.bincount(np.unique(stratify, return_inverse=True)[1]).min() < k:
            splitter, stratify = KFold(k, shuffle=True, random_state=seed), None
        for fold, (_, held_out) in enumerate(splitter.split(targets, stratify)):
            folds[held_out] = fold
        return folds

    def _validate_input(self, X, y=None, *, reset: bool):
        """Check ``X`` and return its code matrix (see :mod:`skneuron._tabular`):
        an array, or a CSR matrix for sparse ``X``.

        On ``reset`` also learns ``n_features_in_``, ``feature_names_in_``, which
        columns are categorical and their categories.
        """
        if reset and y is None:
            validate_data(self, X, y, skip_check_array=True)  # names what is missing
        table = _tabular.as_table(X)
        _tabular.refuse_empty(table.shape, type(self).__name__)
        validate_data(self, table, skip_check_array=True, reset=reset)
        names = getattr(self, "feature_names_in_", None)
        if reset:
            self.is_categorical_ = _tabular.categorical_mask(table, self.categorical_features, names)
            self.categories_ = _tabular.learn_categories(table, self.is_categorical_)
            self._numeric_kinds = _tabular.numeric_kinds(table, self.is_categorical_)
        # Models saved before the kinds were recorded read any kind, as they did.
        return _tabular.code_matrix(table, self.is_categorical_, self.categories_, names,
                                    kinds=getattr(self, "_numeric_kinds", None))

    def _input_stage(self) -> TabularInput:
        spec = {k: v for k, v in self._input_encoding.items() if k != "names"}
        if spec["n_inputs"] != self.n_features_in_:
            raise ValueError(f"the input encoding reads {spec['n_inputs']} columns, but "
                             f"n_features_in_ is {self.n_features_in_}.")
        return TabularInput(**spec)

    def _encoded(self, codes):
        """The features the network's body reads for coded rows (float64, on the CPU).

        For sparse codes, a :class:`~skneuron._sparse.SparseRows` that densifies
        them a slice at a time; for dense ones, an array.
        """
        if sp.issparse(codes):
            features = SparseRows(codes, self._input_stage())
            finite, values = features.all_finite(), codes.data
        else:
            with torch.inference_mode():
                rows = torch.as_tensor(np.require(codes, np.float64, requirements="W"))
                features = self._input_stage()(rows).numpy()
            finite, values = np.isfinite(features).all(), codes
        if not finite:
            raise ValueError(
                "X spans too wide a range to scale in float64 (largest |value| "
                f"{np.nanmax(np.abs(values)):.3g}); rescale it, e.g. divide by a power of ten.")
        return features

    def _resolve_formula(self, X_std, discovery_targets, sample_weight, seed):
        if isinstance(self.formula, str) and self.formula == "auto":
            options = {"max_order": self.max_order, "rank": self.rank, "random_state": int(seed)}
            accepted = inspect.signature(METHODS[self.discovery]).parameters
            if "keep_linear" in accepted:  # x joins every formula below: search around it
                options["keep_linear"] = True
            if "periodic_inputs" in accepted:
                options["periodic_inputs"] = len(self._input_encoding["numeric"])
                # A candidate only if the term is not in every formula already, and with
                # no more waves than the network would give it.
                kept = self._base_formula().periodic
                options["periodic"] = 0 if kept else \
                    min(DEFAULT_CANDIDATE_FREQUENCIES, self._periodic_frequencies_allowed())
                if "keep_periodic" in accepted:  # each term is then priced beside its waves
                    options["keep_periodic"] = kept
            options.update(self.discovery_params or {})  # a periodic candidate, if asked for
            result = discover_formula(X_std, discovery_targets, method=self.discovery,
                                      sample_weight=sample_weight, **options)
            if self.verbose:
                print(result, flush=True)
            # Discovery chooses the terms that join the linear one: keeping ``x`` in every
            # neuron means the network always contains the ordinary MLP as a special case.
            return result.formula | self._base_formula(), result
        return NeuronFormula.coerce(self.formula, rank=self.rank), None

    def _base_formula(self) -> NeuronFormula:
        """The terms every discovered formula keeps: ``x``, and the periodic term.

        The periodic term reads the continuous inputs, at most
        :data:`PERIODIC_WAVE_BUDGET` waves in all: on wide data it gets fewer
        frequencies per input, or none.
        """
        return NeuronFormula(periodic=min(self.periodic, self._periodic_frequencies_allowed()))

    def _periodic_frequencies_allowed(self) -> int:
        """Most frequencies per continuous input within :data:`PERIODIC_WAVE_BUDGET`."""
        n_continuous = len(self._input_encoding["numeric"])
        return PERIODIC_WAVE_BUDGET // n_continuous if n_continuous else 0

    def _build_network(self, seed) -> Standardized:
        """A new network of the fitted architecture, initialised from ``seed``."""
        inputs = self._input_stage()
        hidden_layer_sizes, activation, members = self._fitted_architecture()
        body = TaskNeuronNetwork(
            inputs.n_features, self._n_network_outputs(), self.formula_,
            hidden_layer_sizes=hidden_layer_sizes, activation=activation,
            members=members, periodic_inputs=len(inputs.numeric),
            generator=torch.Generator().manual_seed(int(seed)),
        )
        output_mean, output_scale = self._output_scaling()
        return Standardized(body, output_mean=output_mean, output_scale=output_scale,
                            inputs=inputs, member_reduction=self._member_reduction)

    def _fitted_architecture(self) -> tuple[tuple[int, ...], str, int]:
        """``(hidden_layer_sizes, activation, n_members)`` of the fitted network.

        Recorded by ``fit``, so that ``set_params`` after ``fit`` does not
        change the network that pickle or :func:`skneuron.load` rebuilds;
        models saved before it was recorded are described by their parameters.
        A recorded value from a file is checked before anything is built.
        """
        architecture = getattr(self, "_architecture", None)
        if architecture is None:
            return _hidden_sizes(self.hidden_layer_sizes), self.activation, self.n_members
        if not (isinstance(architecture, tuple) and len(architecture) == 3
                and isinstance(architecture[0], tuple)
                and all(_is_count(size) and size >= 1 for size in architecture[0])
                and isinstance(architecture[1], str) and architecture[1] in ACTIVATIONS
                and _is_count(architecture[2]) and architecture[2] >= 1):
            raise ValueError("the fitted attribute _architecture must be (hidden layer sizes, "
                             f"activation, members); got {reprlib.repr(architecture)}.")
        return architecture

    def _continued_optimizer(self):
        """The last training's Adam, on ``network_``'s parameters (None if there is none).

        An unpickled estimator holds the optimiser's state as arrays (see
        :meth:`__getstate__`), a copied one on other tensors than its
        network's: either is put on the network's parameters. A model loaded
        from a file has no optimiser state; Adam starts afresh.
        """
        optimizer = getattr(self, "_optimizer", None)
        if optimizer is None:
            return None
        params = [p for p in self.network_.body.parameters() if p.requires_grad]
        if isinstance(optimizer, dict):
            return Adam.from_state_dict(params, optimizer)
        if len(params) == len(optimizer.params) and \
                all(p is q for p, q in zip(params, optimizer.params)):
            return optimizer
        return optimizer.rebound(params)

    def _train(self, X_std, targets, train, weights, validation, seed, *, total_weight,
               optimizer=None, epochs=None):
        """Train ``network_`` on the ``train`` rows, of sample weight ``total_weight`` in
        all; ``epochs`` fixes the number of epochs (``max_iter`` when None)."""
        # The body trains, and then predicts, in its own precision (see
        # FLOAT64_TRAINING_ROWS); the input stage and output scaling keep float64 where
        # the device has it (inputs of magnitude 1e±200 are still representable), and
        # everything is float32 on a device without float64 (MPS).
        device = self.device_
        place(self.network_, device)
        dtype = next(self.network_.body.parameters()).dtype

        def as_tensor(array, dtype=dtype):
            return torch.as_tensor(np.ascontiguousarray(array), dtype=dtype, device=device)

        def inputs(rows):  # sparse rows stay sparse: training densifies each minibatch
            if isinstance(X_std, SparseRows):
                return X_std.take(rows).to(device, dtype)
            return as_tensor(X_std[rows])

        target_dtype = self._target_dtype()
        if validation is not None:  # rows, and their weights (one row per member) or None
            rows, validation_weights = validation
            if rows.ndim == 2 and isinstance(X_std, SparseRows):
                # A sparse row source reads a list of rows: every member scores all the
                # rows, its own fold's weighted (densified a chunk at a time, as before).
                rows, validation_weights = _all_rows(rows, validation_weights, len(targets))
            validation = (inputs(rows), as_tensor(targets[rows], target_dtype))
            if validation_weights is not None:
                validation += (as_tensor(validation_weights),)
        batch_size = min(200, len(train)) if self.batch_size == "auto" else self.batch_size
        return fit_network(
            self.network_.body,
            inputs(train),
            as_tensor(targets[train], target_dtype),
            loss_fn=self._loss,
            loss_gradient_fn=self._loss_and_gradient,
            sample_weight=None if weights is None else as_tensor(weights),
            validation=validation,
            score_fn=self._validation_score,
            batch_size=batch_size,
            learning_rate=self.learning_rate_init,
            alpha=self.alpha,
            total_weight=total_weight,
            max_iter=self.max_iter if epochs is None else epochs,
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            # On the CPU: the epochs' row orders are then the same on every device.
            generator=torch.Generator().manual_seed(int(seed)),
            callbacks=[print_progress] if self.verbose else [],
            num_threads=_training_threads(batch_size, self.network_.body),
            compile=self.compile,
            fault_advice=f"Lower learning_rate_init (now {self.learning_rate_init:g}) or use a "
                         "smaller max_order (fewer high powers in the formula).",
            optimizer=optimizer,
            warn_max_iter=epochs is None,
        )

    # --------------------------------------------------------------- predict
    def _forward(self, X) -> np.ndarray:
        """Raw network outputs for ``X``, computed in bounded-size chunks."""
        check_is_fitted(self)
        X = self._validate_input(X, reset=False)
        self.network_.eval()
        chunk_rows = _predict_chunk_rows(self.network_, self.device_)
        dtype = np.float64 if stage_dtype(self.device_) == torch.float64 else np.float32
        outputs = []
        n_samples = X.shape[0]
        with torch.inference_mode():
            for start in range(0, max(n_samples, 1), chunk_rows):
                rows = X[start : start + chunk_rows]
                if sp.issparse(rows):  # a chunk at a time: never the whole dense matrix
                    rows = rows.toarray()
                # Whole blocks of rows: every row then takes the same matrix-kernel path.
                padding = -len(rows) % PREDICT_ROW_BLOCK
                rows = np.pad(rows, ((0, padding), (0, 0)), mode="edge") if padding else rows
                chunk = torch.as_tensor(np.require(rows, dtype, requirements="W"),
                                        device=self.device_)
                outputs.append(self.network_(chunk)[: len(rows) - padding].to("cpu").numpy())
        outputs = np.concatenate(outputs).astype(np.float64, copy=False)
        bad = ~np.isfinite(outputs).all(axis=1)
        if bad.any():
            warnings.warn(
                f"The network's output is NaN or infinite for {bad.sum()} of {n_samples} rows; "
                "their inputs are probably far outside the range seen in fit.",
                RuntimeWarning, stacklevel=3)
        return outputs

    # ---------------------------------------------------------- deployment
    def save(self, path) -> None:
        """Write the fitted model to ``path`` in the safe format (no pickle).

        :func:`skneuron.load` reads it back; the file is a zip archive of a
        JSON manifest and the tensors (see :func:`skneuron.persistence.save`,
        which also saves pipelines and metadata).

        Parameters
        ----------
        path : str or path-like
            Where to write, ``.skn`` by convention; an existing file is replaced.

        Raises
        ------
        ValueError
            If a fitted attribute cannot be held by the format, e.g. class
            labels that are neither numbers nor strings (the message names
            it); nothing is written then. Pickle or joblib save such models.
        sklearn.exceptions.NotFittedError
            If the estimator is not fitted.
        OSError
            If the file cannot be written; a file already at ``path`` is
            left as it was (the file is written whole or not at all).

        See Also
        --------
        skneuron.load : Read the file back.
        skneuron.persistence.read_manifest : Read the file's manifest only.

        Examples
        --------
        >>> import os, tempfile
        >>> from sklearn.datasets import make_regression
        >>> import skneuron
        >>> X, y = make_regression(100, 3, random_state=0)
        >>> reg = skneuron.TaskNeuronRegressor(max_iter=5, random_state=0).fit(X, y)
        >>> path = os.path.join(tempfile.mkdtemp(), "model.skn")
        >>> reg.save(path)
        >>> bool((skneuron.load(path).predict(X) == reg.predict(X)).all())
        True
        """
        from skneuron.persistence import save

        save(self, path)

    def export_torchscript(self, path, *, dtype: str = "float32") -> None:
        """Save the network as TorchScript, raw inputs to predictions.

        The archive maps an ``(n, n_features_in_)`` tensor to predictions
        (regressor) or class probabilities (classifier); load it with
        ``torch.jit.load``. Same as :func:`skneuron.export.export_torchscript`
        with this estimator.

        Parameters
        ----------
        path : str or path-like
            Output file, ``.pt`` by convention.
        dtype : {"float32", "float64"}, default="float32"
            Precision of the exported weights and of the expected input.

        See Also
        --------
        export_onnx : The same prediction path as an ONNX model.

        Examples
        --------
        >>> import os, tempfile, warnings, torch
        >>> from sklearn.datasets import load_iris
        >>> from skneuron import TaskNeuronClassifier
        >>> X, y = load_iris(return_X_y=True)
        >>> clf = TaskNeuronClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0).fit(X, y)
        >>> path = os.path.join(tempfile.mkdtemp(), "iris.pt")
        >>> clf.export_torchscript(path, dtype="float64")
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore", DeprecationWarning)
        ...     module = torch.jit.load(path)
        >>> proba = module(torch.as_tensor(X)).numpy()
        >>> proba.shape, bool((clf.classes_[proba.argmax(axis=1)] == clf.predict(X)).all())
        ((150, 3), True)
        """
        from skneuron.export import export_torchscript

        export_torchscript(self, path, dtype=dtype)

    def export_onnx(self, path, *, dtype: str = "float32") -> None:
        """Save the network as ONNX, raw inputs to predictions (needs ``skneuron[onnx]``).

        The graph reads an input ``"X"`` of shape ``(batch, n_features_in_)``
        and returns ``"predictions"`` (regressor) or ``"probabilities"``
        (classifier). Same as :func:`skneuron.export.export_onnx` with this
        estimator.

        Parameters
        ----------
        path : str or path-like
            Output file, ``.onnx`` by convention.
        dtype : {"float32", "float64"}, default="float32"
            Precision of the exported weights and of the input ``"X"``.

        Raises
        ------
        ImportError
            If ``onnx`` or ``onnxscript`` is not installed.

        See Also
        --------
        export_torchscript : The same prediction path as TorchScript.

        Examples
        --------
        >>> import os, tempfile
        >>> import onnx
        >>> from sklearn.datasets import make_regression
        >>> from skneuron import TaskNeuronRegressor
        >>> X, y = make_regression(100, 3, random_state=0)
        >>> reg = TaskNeuronRegressor(hidden_layer_sizes=(8,), max_iter=5, random_state=0).fit(X, y)
        >>> path = os.path.join(tempfile.mkdtemp(), "reg.onnx")
        >>> reg.export_onnx(path)
        >>> model = onnx.load(path)
        >>> [i.name for i in model.graph.input], [o.name for o in model.graph.output]
        (['X'], ['predictions'])
        """
        from skneuron.export import export_onnx

        export_onnx(self, path, dtype=dtype)

    # ------------------------------------------------------ pickling, loading
    def _restore_fitted(self, state_dicts: dict) -> None:
        """Finish an estimator that :mod:`skneuron.persistence` rebuilt from a model file.

        The loading hook: the parameters and the other fitted attributes are
        set; this checks the parameters as ``fit`` would (a formula given as
        text too) and the labels and names ``predict`` indexes, and rebuilds
        ``network_`` from its saved ``state_dict`` without allocating more than
        the saved tensors (see :meth:`_network_from_state`), on a device this
        model can live on here.

        Raises ValueError (or TypeError) when the parameters are invalid or
        the tensors do not fit them.
        """
        self._validate_params()
        if isinstance(self.formula, str) and self.formula != "auto":
            NeuronFormula.parse(self.formula, rank=self.rank)  # refused now, not at the next fit
        self._check_fitted_attributes()
        if set(state_dicts) != {"network_"}:
            raise ValueError(f"expected the network 'network_' only; got {sorted(state_dicts)}.")
        self.network_ = self._network_from_state(state_dicts["network_"])
        self._move_to_usable_device()

    def _check_fitted_attributes(self) -> None:
        """Refuse fitted attributes of a model file that are missing or of the wrong type.

        ``predict``, ``inspect`` and a later ``fit`` read them as the types
        ``fit`` sets (see ``_fitted_attributes``); ValueError names the first
        that is not.
        """
        for name, (check, description, required) in self._fitted_attributes.items():
            if not hasattr(self, name):
                if required:
                    raise ValueError(f"the fitted attribute {name} is missing.")
                continue
            value = getattr(self, name)
            if not check(value):
                raise ValueError(f"the fitted attribute {name} must be {description}; got "
                                 f"{type(value).__name__} {reprlib.repr(value)}.")
        names = getattr(self, "feature_names_in_", None)
        if names is not None and len(names) != self.n_features_in_:
            raise ValueError(f"the fitted attribute feature_names_in_ holds {len(names)} names "
                             f"for n_features_in_={self.n_features_in_} columns.")
        kinds = getattr(self, "_numeric_kinds", None)
        if kinds is not None and len(kinds) != self.n_features_in_:
            raise ValueError(f"the fitted attribute _numeric_kinds holds {len(kinds)} kinds "
                             f"for n_features_in_={self.n_features_in_} columns.")

    def _network_from_state(self, state: dict) -> Standardized:
        """The network the fitted attributes describe, holding the tensors of ``state``.

        It is built on the meta device, so its declared sizes cost nothing until
        they are compared with the saved tensors; a network with more hidden
        units or layers than ``state`` has values or tensors is refused before
        that. Then it takes the saved tensors themselves.
        """
        sizes, n_features = self._fitted_architecture()[0], self.n_features_in_
        if isinstance(n_features, bool) or not isinstance(n_features, Integral) or n_features < 1:
            raise ValueError(f"n_features_in_ must be a positive integer; got {n_features!r}.")
        try:
            _tabular.check_input_encoding(self._input_encoding, self.n_features_in_,
                                          self.is_categorical_, self.categories_)
        except (AttributeError, TypeError, ValueError) as exc:
            raise ValueError(f"the saved weights do not fit the network its manifest "
                             f"describes ({exc})") from None
        problem = storage_problem(state.items())  # views, which numel() would overcount
        if problem:
            raise ValueError(f"the saved weights do not fit the network its manifest "
                             f"describes ({problem}).")
        # The values stored, counted by their bytes: a tensor's numel() may repeat a few.
        n_values = sum(t.untyped_storage().nbytes() // t.element_size() for t in state.values())
        if len(sizes) > len(state) or sum(sizes) + n_features > n_values:
            raise ValueError(
                f"the saved weights do not fit the network its manifest describes (its "
                f"{n_values:,} values are too few for hidden_layer_sizes={sizes} and "
                f"{self.n_features_in_} inputs).")
        with torch.device("meta"):
            network = self._build_network(0)
        stage = state.get("inputs.center")
        if stage is not None and stage.dtype == torch.float32:
            network.to(dtype=torch.float32)  # fitted on a device without float64 (MPS)
        # The body's precision (float64 after a small fit); a tensor that differs is refused below.
        body = next((t for k, t in state.items() if k.startswith("body.") and t.is_floating_point()),
                    None)
        if body is not None and body.dtype in (torch.float32, torch.float64):
            network.body.to(dtype=body.dtype)
        expected = {k: (tuple(t.shape), t.dtype) for k, t in network.state_dict().items()}
        saved = {k: (tuple(t.shape), t.dtype) for k, t in state.items()}
        if expected != saved:
            key = min(set(expected) ^ set(saved) or {k for k in expected if expected[k] != saved[k]})
            raise ValueError(
                f"the saved weights do not fit the network its manifest describes ({key}: "
                f"saved {saved.get(key)}, expected {expected.get(key)}).")
        try:
            network.load_state_dict(state, strict=True, assign=True)
        except RuntimeError as exc:  # a column layout other than the manifest's
            raise ValueError(f"the saved weights do not fit the network its manifest "
                             f"describes ({' '.join(str(exc).split())})") from None
        if any(t.is_meta for t in itertools.chain(network.parameters(), network.buffers())):
            raise ValueError("the saved weights do not fill the network its manifest describes.")
        return network.eval()

    def _move_to_usable_device(self) -> None:
        self.device_ = usable_device(self.device_, stacklevel=3)
        place(self.network_, self.device_)

    def __getstate__(self):
        """The estimator's state, with the network as numpy arrays and the device as text.

        The network travels as its ``state_dict`` (numpy arrays, on the CPU
        whatever device it lives on) and is rebuilt by :meth:`__setstate__`
        from the fitted attributes that describe it (formula, layer sizes,
        input encoding, outputs), as :func:`skneuron.load` rebuilds it. So a
        pickle holds no torch object, and :mod:`skops.io` can save the
        estimator and load it trusting skneuron's own types only.
        """
        # A new dict: on Python 3.11+ ``object.__getstate__`` returns the instance's own
        # ``__dict__``, and the live estimator must keep its network (and its device).
        state = dict(super().__getstate__())
        network = state.get("network_")
        if isinstance(network, torch.nn.Module):
            # Tensors are copied straight to the host: a network on a GPU is never duplicated there.
            state["network_"] = {name: tensor.detach().to("cpu").numpy()
                                 for name, tensor in network.state_dict().items()}
        if isinstance(state.get("_optimizer"), Adam):  # rebound to the network on loading
            state["_optimizer"] = state["_optimizer"].state_dict()
        if isinstance(state.get("device_"), torch.device):
            state["device_"] = str(state["device_"])
        return state

    def __setstate__(self, state):
        """Restore a state of :meth:`__getstate__`, rebuilding the network on a device here.

        Pickles of earlier versions, which hold the network module itself, load too.
        """
        state = dict(state)
        network = state.pop("network_", None)
        if isinstance(state.get("device_"), str):
            try:
                state["device_"] = torch.device(state["device_"])
            except RuntimeError:
                raise ValueError(f"the fitted attribute device_ must be a device; got "
                                 f"{state['device_']!r:.80}.") from None
        super().__setstate__(state)
        if network is not None:  # a fitted model: a skops file is data, checked as load does
            self._check_fitted_attributes()
        if isinstance(network, dict):
            network = self._network_from_state(
                {name: torch.from_numpy(np.require(array, requirements=["C", "W"]))
                 for name, array in network.items()})
        if network is not None:
            self.network_ = network
            self._move_to_usable_device()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.input_tags.sparse = True
        tags.input_tags.string = True  # text columns are categories
        return tags


@register_loadable
class TaskNeuronRegressor(RegressorMixin, BaseTaskNeuron):
    """Regression with a network of task-driven neurons.

    ``fit`` first discovers a neuron formula for the task from the data
    (``formula="auto"``, NeuronSeek-TD by default), then trains a network
    whose hidden neurons aggregate their inputs with that formula. Inputs and
    targets are standardised internally. The network trains in float32, or in
    float64 when ``fit`` has at most 64 training rows.

    ``X`` may be a scipy sparse matrix or array (CSR or CSC). It stays sparse
    in memory: training densifies one minibatch at a time and prediction one
    chunk of rows at a time, so the network (every formula term) sees the
    same standardised rows as for the dense matrix and predicts the same.
    Memory then grows with the stored values, but the work per epoch is
    still that of the dense matrix (rows × columns). Discovery reads a dense
    random subsample of at most 2**24 values (all the rows when they fit).

    Parameters
    ----------
    hidden_layer_sizes : array-like of int, default=(100,)
        Widths of the hidden task-neuron layers. ``()`` gives a single
        task-neuron layer (a low-rank polynomial model of the formula).
    activation : {"relu", "tanh", "logistic", "identity"}, default="relu"
        Activation of the hidden layers.
    formula : "auto", str or NeuronFormula, default="auto"
        ``"auto"`` discovers the formula; otherwise the formula to use, e.g.
        ``"x + x**2 + inter(2)"`` (see :meth:`NeuronFormula.parse`).
    categorical_features : "from_dtype", None or array-like of {bool, int, str}, \
default="from_dtype"
        Which columns of ``X`` are categorical. ``"from_dtype"``: the columns
        of a data frame (pandas, or any ``__dataframe__``/Arrow frame) or of an
        object array whose values are not numbers — ``category``, text and
        object columns; boolean columns are numbers, and so are date-time and
        duration columns (seconds since 1970-01-01 UTC, and seconds): a date
        not seen in ``fit`` is placed by its time. ``None``: no column.
        Otherwise a boolean mask, column indices or column names, as in
        :class:`~sklearn.ensemble.HistGradientBoostingRegressor`. A categorical
        column with two categories becomes one ±1 input, any other one-hot
        inputs for its 255 most frequent categories plus one for the rest and
        one for missing values; a category not seen in ``fit`` (or text of more
        than 1000 characters) is encoded as a missing value (none of them when
        the column had no missing values in ``fit``), never an error; a
        number finds the category written as that number, and numeric text
        the category that is that number. Missing numeric values (``NaN``,
        ``None``, ``pd.NA``) are imputed with the column's centre and flagged
        by an indicator input when the column had missing values in ``fit``.
        Sparse ``X`` has numeric columns only: naming categorical columns of
        sparse input is an error.
    discovery : str, default="td"
        Discovery method when ``formula="auto"``: ``"td"`` (tensor
        decomposition) or any other name in :data:`skneuron.discovery.METHODS`.
    discovery_params : dict, optional
        Extra keyword arguments for the discovery function.
    max_order : int, default=3
        Highest polynomial order discovery considers.
    rank : int, default=8
        CP rank of interaction terms (in discovery and in the network).
    n_members : int, default=4
        Number of networks trained side by side in one vectorised model;
        predictions average their outputs (class probabilities for the
        classifier). With early stopping, each member is validated on its
        own fold of the rows and trains on the others (cross-fitting), so
        every row trains all members but one and no row is set aside; each
        member keeps its best epoch.
        More members usually score a little higher and take longer to fit
        (the documentation's benchmarks page measures both).
    periodic : int, default=8
        With ``formula="auto"``, every discovered formula keeps, besides
        ``x``, the periodic term ``periodic(periodic)``: per numeric input
        (not the columns encoded from categories), that many learned waves
        ``sin(2π f x + φ)`` (a numeric embedding as a task-neuron term), at
        most 512 waves in all (fewer frequencies, or none, on wide data).
        0 leaves the term to TD discovery's verdict (SR's formulas then have
        none). Ignored when a formula is given.
    alpha : float, default=1e-4
        L2 penalty on the weights, as in :class:`~sklearn.neural_network.MLPRegressor`:
        ``0.5·alpha·‖W‖²`` over the weight of a minibatch (its number of rows
        times the mean sample weight), so that a sample weight of ``k`` acts as
        ``k`` copies of the row. It reaches every parameter of two or more
        dimensions: the weights, the periodic term's frequencies and phases,
        and with ``n_members > 1`` the biases too (each has a member
        dimension; scikit-learn exempts them, as with one member).
    batch_size : int or "auto", default="auto"
        Minibatch size; ``"auto"`` is ``min(200, n_train)``, ``n_train`` the
        rows left to train on after the ``validation_fraction`` hold-out.
    learning_rate_init : float, default=1e-3
        Adam's learning rate.
    max_iter : int, default=200
        Maximum number of epochs.
    tol : float, default=1e-4
        Improvement below which an epoch counts as no progress.
    early_stopping : "auto" or bool, default="auto"
        Stop when the held-out R² stops improving and keep the best weights.
        With several members each is validated on its own fold
        (``n_members`` folds); with one, on ``validation_fraction`` of the
        rows. ``"auto"`` turns it on when the folds have at least 20 rows
        each, or, with one member, when ``fit`` gets more than 10 000 rows,
        as in :class:`~sklearn.ensemble.HistGradientBoostingRegressor`.
    validation_fraction : float, default=0.1
        Share of rows held out for early stopping with a single member.
    n_iter_no_change : int, default=10
        Epochs without progress before stopping.
    random_state : int, RandomState instance or None, default=None
        Seeds discovery, initialisation, the validation split and shuffling;
        an int gives identical predictions on every CPU fit.
    verbose : bool or int, default=False
        Print the discovery result and one line per epoch.
    warm_start : bool, default=False
        Continue training the fitted network (and keep its formula). A
        ``fit`` (or ``partial_fit``) whose ``hidden_layer_sizes``,
        ``activation`` or ``n_members`` no longer describe that network is
        refused; ``warm_start=False`` fits anew. A ``fit`` that raises leaves
        the estimator as it was.
    device : str or torch.device, default="auto"
        ``"auto"`` uses CUDA when available, else the CPU.
    compile : bool, default=False
        Compile the training step with :func:`torch.compile`. Each step is
        faster, but compiling takes seconds — longest the first time on a
        machine, less in later processes (inductor's cache on disk) — and
        further fits of the same network shape in one process reuse the
        compiled step, so it pays on long fits only (step and compile times:
        ``benchmarks/results/torch_compile.md``, ``docs/user_guide/gpu.md``).
        Needs a C++ compiler on the CPU (Triton on CUDA); if compiling fails,
        training continues uncompiled with a warning. Compiled kernels round differently, so the
        weights differ slightly from an uncompiled fit's; prediction is never
        compiled.

    Attributes
    ----------
    formula_ : NeuronFormula
        The neuron formula the network uses: the given one, or the discovered
        terms together with the linear term ``x``, which every discovered
        neuron keeps so that the network contains the ordinary MLP.
    discovery_ : DiscoveryResult or None
        What discovery found (None when the formula was given).
    network_ : skneuron.nn.Standardized
        The trained torch network, including input/output standardisation.
    device_ : torch.device
        Where the network lives.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.
    is_categorical_ : ndarray of bool, shape (`n_features_in_`,)
        Which input columns were read as categorical.
    categories_ : list of ndarray or None
        For each input column, its categories seen in ``fit`` in encoding
        order (None for numeric columns).
    n_outputs_ : int
        Number of regression targets.
    n_iter_ : int
        Epochs run.
    loss_curve_ : list of float
        Training loss (on the standardised target) after each epoch.
    best_loss_ : float
        Lowest training loss.
    do_early_stopping_ : bool
        Whether the last ``fit`` stopped early on held-out rows (what
        ``early_stopping="auto"`` decided).
    validation_scores_ : list of float or None
        Held-out R² after each epoch with early stopping, else None.
    best_validation_score_ : float
        Best held-out R² (only with early stopping).

    See Also
    --------
    TaskNeuronClassifier : The classification counterpart.
    sklearn.neural_network.MLPRegressor : The ordinary-neuron network.

    Examples
    --------
    >>> from sklearn.datasets import make_friedman1
    >>> from skneuron import TaskNeuronRegressor
    >>> X, y = make_friedman1(n_samples=500, random_state=0)
    >>> reg = TaskNeuronRegressor(max_iter=50, random_state=0).fit(X, y)
    >>> reg.formula_.interaction_orders  # friedman1 has the product x₁x₂ inside a sine
    (3,)
    >>> round(reg.score(X, y), 2) > 0.8
    True
    """

    _fitted_attributes = {
        **_FITTED_ATTRIBUTES,
        "n_outputs_": (lambda v: _is_count(v) and v >= 1, "a positive integer", True),
        "_target_mean": (_is_vector("f"), "a 1-D array of floats", True),
        "_target_scale": (_is_vector("f"), "a 1-D array of floats", True),
        "_target_constant": (_is_vector("b"), "a 1-D array of booleans", True),
    }

    def _check_fitted_attributes(self) -> None:
        super()._check_fitted_attributes()
        for name in ("_target_mean", "_target_scale", "_target_constant"):
            if len(getattr(self, name)) != self.n_outputs_:
                raise ValueError(f"the fitted attribute {name} holds {len(getattr(self, name))} "
                                 f"values for n_outputs_={self.n_outputs_} outputs.")

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Update the model with one epoch over ``(X, y)``: training in batches.

        One epoch (one pass in minibatches) of Adam over the given rows, as
        :meth:`sklearn.neural_network.MLPRegressor.partial_fit`: no early stopping
        (``early_stopping``, ``max_iter``, ``tol`` and ``n_iter_no_change`` do
        not apply), and each call continues the same optimisation — Adam's
        moments and step count carry over from the last call, or from
        :meth:`fit`, which ``partial_fit`` continues. :meth:`fit` starts over
        (unless ``warm_start``). All ``n_members`` members train on every batch.

        The first call (on an unfitted estimator) fixes what the data's scale
        and kinds are from its rows alone: the formula is discovered on them
        (unless ``formula`` is given), and the input encoding — which columns
        are categorical and their categories, the numeric columns' centres
        and scales, which columns get a missing-value indicator — and the
        target's mean and scale stay as the first batch set them. Later batches are encoded with it: a
        category the first batch lacked is encoded as none of its categories,
        a missing value in a column that had none is imputed without an
        indicator. So make the first batch large and representative (shuffle
        a sorted file). See the user guide's page on scaling.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A batch of training inputs.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Its targets.
        sample_weight : array-like of shape (n_samples,), optional
            Weights of the batch's samples in the training loss.

        Returns
        -------
        self : object
            The updated estimator.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.datasets import make_friedman1
        >>> from skneuron import TaskNeuronRegressor
        >>> X, y = make_friedman1(n_samples=2000, random_state=0)
        >>> reg = TaskNeuronRegressor(random_state=0)
        >>> for epoch in range(10):
        ...     for batch in np.array_split(np.arange(len(X)), 4):
        ...         reg = reg.partial_fit(X[batch], y[batch])
        >>> reg.n_iter_, reg.score(X, y) > 0.8
        (40, True)
        """
        return self._partial_fit(X, y, sample_weight)

    def _validate_targets(self, y, reset, *, incremental=False, classes=None):
        labels = _string_values(y)
        if labels:
            raise ValueError(
                f"{type(self).__name__} needs a numeric target; y holds text such as "
                f"{labels[0]!r}. For class labels use TaskNeuronClassifier.")
        y = _check_y(y, multi_output=True, y_numeric=True, estimator=self).astype(np.float64)
        n_outputs = 1 if y.ndim == 1 else y.shape[1]
        if reset:
            self.n_outputs_ = n_outputs
        elif n_outputs != self.n_outputs_:
            raise ValueError(
                f"y has {n_outputs} output(s), but the fitted network predicts "
                f"{self.n_outputs_}; continuing its training (warm_start or partial_fit) "
                "needs the same outputs. Fit anew with warm_start=False.")
        return y

    def _learn_target_scaling(self, y, sample_weight, *, incremental=False):
        self._target_mean, self._target_scale, self._target_constant = \
            _tabular.mean_and_scale(y.reshape(len(y), -1), sample_weight)
        if incremental:  # a target constant in the first batch may vary in later ones
            self._target_constant = np.zeros_like(self._target_constant)

    def _encode_targets(self, y):
        Y = (y.reshape(len(y), -1) - self._target_mean) / self._target_scale
        return Y, Y

    def _output_scaling(self):
        # A constant target column is predicted exactly: its output is scaled by zero.
        scale = np.where(self._target_constant, 0.0, self._target_scale)
        return torch.as_tensor(self._target_mean), torch.as_tensor(scale)

    def _n_network_outputs(self):
        return self.n_outputs_

    def _target_dtype(self):
        return torch.float32

    _member_reduction = "mean"

    def _loss_and_gradient(self, outputs, targets):
        # ½·mean over outputs of the squared residuals; its gradient is residual / n_outputs.
        n_outputs = outputs.shape[-1]
        residuals = outputs - targets
        losses = residuals.square().sum(dim=-1).mul_(0.5 / n_outputs)
        return losses, residuals if n_outputs == 1 else residuals / n_outputs

    def _validation_score(self, outputs, targets, weights=None):
        """R² (mean over outputs); one per member when ``weights`` weigh the rows per member."""
        if weights is None:
            residual = (targets - outputs).square().sum(dim=0)
            total = (targets - targets.mean(dim=0)).square().sum(dim=0)
            return (1 - residual / total.clamp(min=torch.finfo(total.dtype).tiny)).mean()
        w = weights.unsqueeze(-1)
        mean = (w * targets).sum(-2, keepdim=True) / w.sum(-2, keepdim=True)
        residual = (w * (targets - outputs).square()).sum(-2)
        total = (w * (targets - mean).square()).sum(-2)
        return (1 - residual / total.clamp(min=torch.finfo(total.dtype).tiny)).mean(-1)

    def predict(self, X):
        """Predict targets for ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Inputs, in the units the estimator was fitted on; sparse input
            is densified a chunk of rows at a time.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predictions in the units of the training targets.

        Examples
        --------
        >>> from sklearn.datasets import make_friedman1
        >>> X, y = make_friedman1(n_samples=300, random_state=0)
        >>> reg = TaskNeuronRegressor(max_iter=20, random_state=0).fit(X, y)
        >>> reg.predict(X[:3]).shape
        (3,)
        """
        outputs = self._forward(X)
        return outputs.ravel() if self.n_outputs_ == 1 else outputs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags


@register_loadable
class TaskNeuronClassifier(ClassifierMixin, BaseTaskNeuron):
    """Classification with a network of task-driven neurons.

    ``fit`` discovers a neuron formula (class-specific weights, shared term
    selection) unless one is given, then trains the network with the
    cross-entropy loss. Binary problems use one logistic output, multiclass
    ones a softmax. Labels may be of any type (strings too). A label
    indicator matrix ``y`` of shape ``(n_samples, n_labels)`` (0/1) is a
    multilabel problem, as in :class:`~sklearn.neural_network.MLPClassifier`:
    one independent logistic output per label, trained on the sum of their
    log-losses, with discovery run on the indicator columns as targets.
    Inputs are standardised internally; sparse ``X`` (CSR or CSC) stays sparse
    in memory, and the training precision is chosen, as in :class:`TaskNeuronRegressor`.

    Parameters
    ----------
    hidden_layer_sizes, activation, formula, categorical_features, discovery, \
discovery_params, max_order, rank, n_members, periodic, alpha, batch_size, learning_rate_init, \
max_iter, tol, early_stopping, validation_fraction, n_iter_no_change, random_state, verbose, \
warm_start, device, compile
        As in :class:`TaskNeuronRegressor`; early stopping monitors the
        held-out log-loss, and the validation folds are stratified (not for
        multilabel targets, nor when a class has fewer rows than folds).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels; for a multilabel ``y``, the label (column) indices
        ``0 … n_labels − 1``, as :class:`~sklearn.neural_network.MLPClassifier`
        has them.
    formula_, discovery_, network_, device_, n_features_in_, feature_names_in_, \
is_categorical_, categories_, n_iter_, loss_curve_, best_loss_, do_early_stopping_, \
validation_scores_, best_validation_score_
        As in :class:`TaskNeuronRegressor`, except that ``validation_scores_`` and
        ``best_validation_score_`` are the held-out mean log-likelihood (minus the
        log-loss, higher is better) rather than R²; for a multilabel ``y``,
        of the label set (the sum over the labels).

    See Also
    --------
    TaskNeuronRegressor : The regression counterpart.
    sklearn.neural_network.MLPClassifier : The ordinary-neuron network.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skneuron import TaskNeuronClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = TaskNeuronClassifier(max_iter=100, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:2]).shape
    (2, 3)
    >>> clf.score(X, y) > 0.9
    True
    """

    _fitted_attributes = {
        **_FITTED_ATTRIBUTES,
        "classes_": (_are_labels, "a 1-D array of distinct, sorted labels", True),
        "_multilabel": (lambda v: isinstance(v, bool), "a boolean", False),
    }

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Update the model with one epoch over ``(X, y)``: training in batches.

        One epoch (one pass in minibatches) of Adam over the given rows, as
        :meth:`sklearn.neural_network.MLPClassifier.partial_fit`: no early stopping
        (``early_stopping``, ``max_iter``, ``tol`` and ``n_iter_no_change`` do
        not apply), and each call continues the same optimisation — Adam's
        moments and step count carry over from the last call, or from
        :meth:`fit`, which ``partial_fit`` continues. :meth:`fit` starts over
        (unless ``warm_start``). All ``n_members`` members train on every batch.

        The first call (on an unfitted estimator) fixes what the data's scale
        and kinds are from its rows alone: the formula is discovered on them
        (unless ``formula`` is given), and the input encoding — which columns
        are categorical and their categories, the numeric columns' centres
        and scales, which columns get a missing-value indicator —
        stays as the first batch set it. Later batches are encoded with it: a
        category the first batch lacked is encoded as none of its categories,
        a missing value in a column that had none is imputed without an
        indicator. So make the first batch large and representative (shuffle
        a sorted file). See the user guide's page on scaling.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A batch of training inputs.
        y : array-like of shape (n_samples,)
            Its class labels, all among ``classes``.
        sample_weight : array-like of shape (n_samples,), optional
            Weights of the batch's samples in the training loss.
        classes : array-like of shape (n_classes,), optional
            Every class label the model will ever see. Required on the first
            call (a batch need not hold them all); later calls may omit it,
            or must pass the same labels.

        Returns
        -------
        self : object
            The updated estimator.

        Raises
        ------
        ValueError
            If ``classes`` is missing on the first call or differs later, or
            ``y`` holds a label not in :attr:`classes_`.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.datasets import load_iris
        >>> from skneuron import TaskNeuronClassifier
        >>> X, y = load_iris(return_X_y=True)
        >>> order = np.random.default_rng(0).permutation(len(X))
        >>> clf = TaskNeuronClassifier(random_state=0)
        >>> for epoch in range(20):
        ...     for batch in np.array_split(order, 3):
        ...         clf = clf.partial_fit(X[batch], y[batch], classes=[0, 1, 2])
        >>> clf.n_iter_, clf.score(X, y) > 0.9
        (60, True)
        """
        return self._partial_fit(X, y, sample_weight, classes=classes)

    def _validate_targets(self, y, reset, *, incremental=False, classes=None):
        if is_multilabel(y):
            return self._validate_indicator(y, reset, incremental=incremental, classes=classes)
        if not reset and self._is_multilabel():
            raise ValueError("y holds one label per row, but the first fit had a label "
                             f"indicator matrix of {len(self.classes_)} columns; warm_start "
                             "keeps that.")
        _check_no_missing_labels(y)  # before scikit-learn's check, which fails on pandas' NA
        y = _check_y(y, estimator=self)
        if y.dtype == object:
            y = _uniform_labels(y)
        check_classification_targets(y)
        target_type = type_of_target(y, input_name="y")
        if target_type not in ("binary", "multiclass"):
            raise ValueError(f"{type(self).__name__} supports binary, multiclass and "
                             f"multilabel-indicator targets; got {target_type}.")
        labels = np.unique(y)
        if incremental:
            known = self._partial_fit_classes(classes, first=reset)
            unseen = labels[~np.isin(labels, known)]
            if len(unseen):
                raise ValueError(f"y holds labels {unseen.tolist()} not among partial_fit's "
                                 f"classes {known.tolist()}.")
        elif reset:
            if len(labels) < 2:
                raise ValueError(f"{type(self).__name__} needs samples of at least 2 classes; "
                                 f"got 1 class ({labels.tolist()[0]!r}).")
            known = labels
        else:
            unseen = labels[~np.isin(labels, self.classes_)]
            if len(unseen):
                raise ValueError(f"y holds labels {unseen.tolist()} not seen in the first fit; "
                                 f"warm_start keeps the classes {self.classes_.tolist()}.")
        if reset:  # set only once the labels are checked
            self.classes_, self._multilabel = known, False
        return y

    def _validate_indicator(self, y, reset, *, incremental=False, classes=None):
        """A label indicator matrix ``y`` (one 0/1 column per label) as int, checked."""
        y = _check_y(y, multi_output=True, estimator=self)
        y = (y.toarray() if hasattr(y, "toarray") else y).astype(np.int64)  # sparse, too
        # As MLPClassifier (LabelBinarizer) has it: the labels are the column indices.
        labels = np.arange(y.shape[1])
        if not reset and not (self._is_multilabel() and y.shape[1] == len(self.classes_)):
            raise ValueError(f"y is a label indicator matrix of {y.shape[1]} columns; "
                             "warm_start keeps the targets of the first fit "
                             f"({self._target_description()}).")
        if incremental:
            given = self._partial_fit_classes(classes, first=reset)
            if not np.array_equal(given, labels):
                raise ValueError(
                    f"y is a label indicator matrix of {len(labels)} columns, whose classes "
                    f"are the column indices {labels.tolist()}; got classes={given.tolist()}.")
        if reset:
            self.classes_, self._multilabel = labels, True
        return y

    def _partial_fit_classes(self, classes, *, first: bool):
        """``classes`` of a ``partial_fit`` call, checked (the fitted ones when omitted later)."""
        if classes is None:
            if first:
                raise ValueError("classes must be passed on the first call to partial_fit.")
            return self.classes_
        classes = np.asarray(classes)
        if classes.dtype == object:
            _check_no_missing_labels(classes)
            classes = _uniform_labels(classes)
        classes = np.unique(classes)
        if first and len(classes) < 2:
            raise ValueError(f"{type(self).__name__} needs at least 2 classes; "
                             f"classes holds {classes.tolist()}.")
        if not first and not np.array_equal(classes, self.classes_):
            raise ValueError(f"classes={classes.tolist()} is not the same as on the first "
                             f"call to partial_fit ({self.classes_.tolist()}).")
        return classes

    def _is_multilabel(self) -> bool:
        """Whether the network's outputs are independent labels (``y`` was an indicator)."""
        return getattr(self, "_multilabel", False)  # absent from models of earlier versions

    def _target_description(self) -> str:
        if self._is_multilabel():
            return f"an indicator matrix of {len(self.classes_)} labels"
        return f"the classes {self.classes_.tolist()}"

    def _encode_targets(self, y):
        if self._is_multilabel():
            indicator = y.astype(np.float64)
            return indicator, indicator
        indices = np.searchsorted(self.classes_, y)
        if len(self.classes_) == 2:
            indicator = indices.astype(np.float64).reshape(-1, 1)
            return indicator, indicator
        one_hot = np.zeros((len(indices), len(self.classes_)))
        one_hot[np.arange(len(indices)), indices] = 1.0  # not np.eye(K)[indices]: K × K floats
        return indices, one_hot

    def _stratify(self, targets):
        # Label sets are too many to stratify by, as in MLPClassifier.
        return None if self._is_multilabel() else targets.ravel()

    def _n_network_outputs(self):
        return 1 if len(self.classes_) == 2 and not self._is_multilabel() else len(self.classes_)

    def _target_dtype(self):
        return torch.float32 if self._n_network_outputs() == 1 or self._is_multilabel() \
            else torch.int64

    @property
    def _member_reduction(self):
        return "sigmoids" if self._is_multilabel() else "probabilities"

    def _loss_and_gradient(self, outputs, targets):
        # With several members, outputs are (members, batch, ·) and targets (batch, ·).
        if targets.is_floating_point():
            # Indicator targets (binary: one column; multilabel: one per label): the sum of
            # the labels' log-losses of their logits; gradient σ(logit) − target.
            losses = F.binary_cross_entropy_with_logits(outputs, targets.expand_as(outputs),
                                                        reduction="none")
            return losses.sum(-1), torch.sigmoid(outputs).sub_(targets)
        index = targets.unsqueeze(-1).expand(*outputs.shape[:-1], 1)
        log_probabilities = F.log_softmax(outputs, dim=-1)
        # multiclass: cross-entropy of the logits; gradient softmax − one-hot
        losses = log_probabilities.gather(-1, index).squeeze(-1).neg_()
        gradients = log_probabilities.exp()
        return losses, gradients.scatter_add_(-1, index, _minus_ones(gradients))

    def _validation_score(self, outputs, targets, weights=None):
        """Mean log-likelihood of the true class, or label set (minus the log-loss); one per
        member when ``weights`` weigh the rows per member."""
        per_row = self._loss(outputs, targets).neg_()
        if weights is None:
            return per_row.mean()
        return (per_row * weights).sum(-1) / weights.sum(-1)

    def predict_proba(self, X):
        """Class probabilities for ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Inputs; sparse input is densified a chunk of rows at a time.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Columns follow :attr:`classes_`; each row sums to one, except for
            a multilabel model, whose columns are the labels' independent
            probabilities.

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> X, y = load_iris(return_X_y=True)
        >>> clf = TaskNeuronClassifier(max_iter=20, random_state=0).fit(X, y)
        >>> clf.predict_proba(X[:2]).sum(axis=1).round(6)
        array([1., 1.])
        """
        return np.exp(self.predict_log_proba(X))

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`, computed stably.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Inputs; sparse input is densified a chunk of rows at a time.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Log-probabilities; columns follow :attr:`classes_` (the labels, for
            a multilabel model).

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.datasets import load_iris
        >>> X, y = load_iris(return_X_y=True)
        >>> clf = TaskNeuronClassifier(max_iter=20, random_state=0).fit(X, y)
        >>> np.allclose(np.exp(clf.predict_log_proba(X[:5])), clf.predict_proba(X[:5]))
        True
        """
        return self._log_proba_of(self._forward(X))

    def predict(self, X):
        """Predicted class labels for ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Inputs; sparse input is densified a chunk of rows at a time.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_labels)
            The most probable class of each row, from :attr:`classes_`; for
            a multilabel model, the label indicator matrix (int, a label is
            set where its probability exceeds one half).

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> X, y = load_iris(return_X_y=True)
        >>> clf = TaskNeuronClassifier(max_iter=20, random_state=0).fit(X, y)
        >>> clf.predict(X[:3])
        array([0, 0, 0])
        """
        return self._labels_of(self._forward(X))

    def _predict_with_proba(self, X) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`predict` and :meth:`predict_proba` of ``X`` from one forward pass.

        The labels and probabilities are those the two methods return (ties
        and multilabel models included); ``skneuron predict --proba`` asks for
        both, and each method would run the network over ``X`` again.
        """
        logits = self._forward(X)
        return self._labels_of(logits), np.exp(self._log_proba_of(logits))

    def _labels_of(self, logits: np.ndarray) -> np.ndarray:
        """The labels :meth:`predict` returns for the network's outputs ``logits``."""
        if self._is_multilabel():
            return (logits > 0).astype(np.int64)
        indices = (logits[:, 0] > 0).astype(int) if logits.shape[1] == 1 else logits.argmax(axis=1)
        return self.classes_[indices]

    def _log_proba_of(self, logits: np.ndarray) -> np.ndarray:
        """The log-probabilities :meth:`predict_log_proba` returns for ``logits``."""
        if self._is_multilabel():
            return -np.logaddexp(0, -logits)
        if logits.shape[1] == 1:
            z = logits[:, 0]
            return np.column_stack([-np.logaddexp(0, z), -np.logaddexp(0, -z)])
        shifted = logits - logits.max(axis=1, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))

    def score(self, X, y, sample_weight=None) -> float:
        """Mean accuracy of :meth:`predict` on ``X`` against ``y``.

        As :meth:`sklearn.base.ClassifierMixin.score` (subset accuracy for a
        multilabel model), with ``y`` read as ``fit`` reads it: an object
        array of numbers (a pandas object column, say) holds numeric labels,
        which scikit-learn's metrics would refuse as an "unknown" target.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Inputs.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            True labels.
        sample_weight : array-like of shape (n_samples,), optional
            Weights of the rows.

        Returns
        -------
        float
            The fraction of rows predicted right (weighted).

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> X, y = load_iris(return_X_y=True)
        >>> clf = TaskNeuronClassifier(max_iter=20, random_state=0).fit(X, y)
        >>> clf.score(X, y.astype(object)) == clf.score(X, y)
        True
        """
        if not sp.issparse(y):
            labels = np.asarray(y)
            if labels.dtype == object and labels.ndim == 1:
                y = _uniform_labels(labels)
        return super().score(X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


#: Minibatch work (rows × widest layer input × members) below which a second torch
#: thread does not pay. The widest layer input is usually the first layer's term
#: features (every term's columns side by side), not its number of units, so even a
#: single member on a few inputs can be above it; what two threads gain on the real
#: suite's data sets is in ``benchmarks/results/training_threads.md``.
SINGLE_THREAD_WORK = 1 << 14


def _training_threads(batch_size: int, network: torch.nn.Module) -> int:
    """Torch threads for training: one for tiny networks, else the budget.

    A tiny network's steps are too short for a second thread to pay; any
    larger one uses what :func:`~skneuron.training.thread_budget` allows in
    this worker (one thread in a worker of a parallel search).
    """
    members = getattr(network, "members", 1)
    matrix_ndim = 3 if members > 1 else 2  # weight matrices, with a member dimension or not
    widest = max(p.shape[-1] for p in network.parameters() if p.ndim == matrix_ndim)
    return 1 if batch_size * widest * members < SINGLE_THREAD_WORK else thread_budget()


def _minus_ones(like: torch.Tensor) -> torch.Tensor:
    """A column of −1 for ``like``'s rows (subtracts the one-hot of the targets)."""
    return torch.full((*like.shape[:-1], 1), -1.0, dtype=like.dtype, device=like.device)


def _uniform_as_none(sample_weight: np.ndarray) -> np.ndarray | None:
    """``None`` for equal positive weights: they weigh nothing, and the loop skips weighting."""
    if sample_weight.size and sample_weight[0] > 0 and np.all(sample_weight == sample_weight[0]):
        return None
    return sample_weight


def _string_values(y) -> list:
    """Text values in ``y`` (none for numeric targets)."""
    values = np.asarray(y)
    if values.dtype.kind in "US":
        return values.ravel()[:1].tolist()
    if values.dtype == object:
        return [v for v in values.ravel() if isinstance(v, str)][:1]
    return []


def _check_no_missing_labels(y) -> None:
    """Refuse missing class labels — None, NaN or pandas' NA — in an object ``y`` (a
    numeric ``y`` with NaN gets scikit-learn's message)."""
    labels = np.asarray(y)
    if labels.dtype != object:
        return
    na = getattr(sys.modules.get("pandas"), "NA", None)  # exists once pandas is imported
    if any(label is None or label is na or (isinstance(label, float) and label != label)
           for label in labels.ravel()):
        raise ValueError("y holds missing class labels (None, NaN or NA); drop those rows or "
                         "give them a label of their own.")


def _uniform_labels(y: np.ndarray) -> np.ndarray:
    """Object-dtype labels as one type: numbers become a numeric array, text stays.

    scikit-learn calls any object array of numbers (e.g. from a pandas object
    column) an "unknown" target; a mix of text and numbers has no order.
    Missing labels are refused before (:func:`_check_no_missing_labels`).
    """
    text = {isinstance(label, str) for label in y.ravel()}
    if len(text) > 1:
        kinds = {type(label).__name__ for label in y.ravel()}
        raise ValueError(
            f"y mixes text and numeric class labels ({', '.join(sorted(kinds))}); "
            "convert them to one type first, e.g. y.astype(str).")
    if text == {False}:
        numeric = np.asarray(y.tolist())
        if numeric.dtype.kind in "biuf":
            return numeric
    return y


def _discovery_data(X_std, targets, sample_weight, train, seed):
    """The features, targets and sample weights (or None) discovery reads: the
    training rows, dense.

    Sparse features are densified for at most a random subsample of
    :data:`SPARSE_DISCOVERY_VALUES` values (all the training rows when they
    fit, as for dense input), in the rows' order.
    """
    if not isinstance(X_std, SparseRows):
        return X_std[train], targets[train], _rows_of(sample_weight, train)
    n_rows = min(len(train), max(MIN_SAMPLES, SPARSE_DISCOVERY_VALUES // max(X_std.shape[1], 1)))
    if n_rows < len(train):
        rng = np.random.default_rng([int(seed), 1])  # not the stream discovery draws from
        train = np.sort(rng.choice(train, n_rows, replace=False))
    return X_std.take(train)[:].numpy(), targets[train], _rows_of(sample_weight, train)


def _member_folds(in_fold: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each member's validation rows and their weights, shape (members, largest fold).

    ``in_fold`` (members, n_samples) says which rows each member holds out. A
    fold shorter than the largest is padded with its first row at weight
    zero, so that every member reads a block of the same shape and the
    padding counts in no score.

    Examples
    --------
    >>> in_fold = np.array([[True, False, True], [False, True, False]])
    >>> rows, weights = _member_folds(in_fold, np.ones(3))
    >>> rows
    array([[0, 2],
           [1, 1]])
    >>> weights
    array([[1., 1.],
           [1., 0.]])
    """
    sizes = in_fold.sum(axis=1)
    rows = np.empty((len(in_fold), sizes.max()), dtype=np.int64)
    weights = np.zeros(rows.shape)
    for member, (held_out, size) in enumerate(zip(in_fold, sizes)):
        fold = np.flatnonzero(held_out)
        rows[member, :size], rows[member, size:] = fold, fold[0]
        weights[member, :size] = weight[fold]
    return rows, weights


def _all_rows(rows: np.ndarray, weights: np.ndarray, n_samples: int):
    """:func:`_member_folds`' output as all rows, with one row of weights per member."""
    spread = np.zeros((len(rows), n_samples))
    np.add.at(spread, (np.arange(len(rows))[:, None], rows), weights)  # padding adds 0
    return np.arange(n_samples), spread


def _rows_of(sample_weight, rows):
    return None if sample_weight is None else sample_weight[rows]


def _predict_chunk_rows(network: torch.nn.Module, device: torch.device = torch.device("cpu")
                        ) -> int:
    """Rows per forward pass in predict, in whole :data:`PREDICT_ROW_BLOCK` blocks.

    Cache-sized on the CPU (:data:`PREDICT_CHUNK_ROWS`, :data:`PREDICT_CHUNK_VALUES`
    values per activation); on an accelerator as many as
    :func:`~skneuron._device.accelerator_pass_rows` allows, so that host↔device
    copies and kernel launches do not dominate a large predict.
    """
    if device.type == "cpu":
        rows = min(PREDICT_CHUNK_ROWS, PREDICT_CHUNK_VALUES // activation_width(network))
    else:
        rows = accelerator_pass_rows(network)
    return max(PREDICT_ROW_BLOCK, rows - rows % PREDICT_ROW_BLOCK)


def _hidden_sizes(sizes) -> tuple[int, ...]:
    """``hidden_layer_sizes`` as a tuple of ints, or a clear error."""
    sizes = [sizes] if isinstance(sizes, Integral) else list(sizes)
    if any(isinstance(s, bool) or not isinstance(s, Integral) or s < 1 for s in sizes):
        raise InvalidParameterError(
            f"The 'hidden_layer_sizes' parameter must hold positive integers; got {sizes}.")
    return tuple(int(s) for s in sizes)
