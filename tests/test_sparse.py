"""Sparse input: X stays sparse in memory and gives the predictions its dense form gives."""

import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from skneuron import TaskNeuronClassifier, TaskNeuronRegressor
from skneuron import _estimators, _tabular
from skneuron._sparse import SparseRows
from skneuron.nn import TabularInput

FAST = {"hidden_layer_sizes": (8,), "max_iter": 8, "batch_size": 32, "random_state": 0,
        "device": "cpu"}

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def sparse_data(n=240, d=6, density=0.3, seed=0):
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=density, format="csr", random_state=seed,
                  data_rvs=lambda k: rng.normal(2.0, 3.0, k))
    dense = X.toarray()
    y = dense[:, 0] - 0.5 * dense[:, 1] ** 2 + dense[:, 2] * dense[:, 3] \
        + 0.1 * rng.standard_normal(n)
    return X, y


SPARSE_FORMS = {"csr": sp.csr_matrix, "csc": sp.csc_matrix, "csr_array": sp.csr_array,
                "csc_array": sp.csc_array}


@pytest.mark.parametrize("form", SPARSE_FORMS)
@pytest.mark.parametrize("Estimator", [TaskNeuronRegressor, TaskNeuronClassifier])
def test_sparse_and_dense_input_give_the_same_model_and_predictions(Estimator, form):
    X, y = sparse_data()
    if Estimator is TaskNeuronClassifier:
        y = np.digitize(y, np.quantile(y, [1 / 3, 2 / 3]))
    X_sparse, X_dense = SPARSE_FORMS[form](X), X.toarray()
    from_sparse = Estimator(**FAST).fit(X_sparse, y)
    from_dense = Estimator(**FAST).fit(X_dense, y)
    assert from_sparse.formula_ == from_dense.formula_
    assert from_sparse.n_features_in_ == 6 and not from_sparse.is_categorical_.any()
    predict = "predict_proba" if Estimator is TaskNeuronClassifier else "predict"
    on_sparse = getattr(from_sparse, predict)(X_sparse)
    # The model fitted on sparse X predicts the same for the sparse and the dense rows ...
    np.testing.assert_allclose(on_sparse, getattr(from_sparse, predict)(X_dense), rtol=0, atol=0)
    # ... and as the model fitted on the dense rows (statistics may differ by rounding).
    np.testing.assert_allclose(on_sparse, getattr(from_dense, predict)(X_dense),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(from_sparse.predict(X_sparse), from_sparse.predict(X_dense))


@pytest.mark.parametrize("n_members", [1, 3])
def test_early_stopping_on_sparse_input_matches_dense(n_members):
    X, y = sparse_data(n=300)
    params = {**FAST, "early_stopping": True, "n_members": n_members, "max_iter": 5}
    from_sparse = TaskNeuronRegressor(**params).fit(X, y)
    from_dense = TaskNeuronRegressor(**params).fit(X.toarray(), y)
    assert from_sparse.do_early_stopping_
    np.testing.assert_allclose(from_sparse.validation_scores_, from_dense.validation_scores_,
                               rtol=1e-5)
    np.testing.assert_allclose(from_sparse.predict(X), from_dense.predict(X.toarray()),
                               rtol=1e-5, atol=1e-6)


def test_stored_nan_is_a_missing_value_as_in_dense_input():
    X, y = sparse_data()
    X = X.tolil()
    X[5, 1] = X[17, 1] = np.nan  # stored NaN: missing, imputed and flagged
    X = X.tocsr()
    reg = TaskNeuronRegressor(**FAST).fit(X, y)
    assert reg._input_encoding["missing"] == [1]
    np.testing.assert_array_equal(reg.predict(X), reg.predict(X.toarray()))
    dense = TaskNeuronRegressor(**FAST).fit(X.toarray(), y)
    np.testing.assert_allclose(reg.predict(X), dense.predict(X.toarray()), rtol=1e-5, atol=1e-6)


def test_sparse_statistics_are_those_of_the_dense_matrix():
    rng = np.random.default_rng(1)
    dense = np.where(rng.random((500, 5)) < 0.2, rng.normal(1e6, 10.0, (500, 5)), 0.0)
    dense[:, 3] = 0.0  # no stored value: constant, infinite scale (reads as 0)
    dense[:, 4] = np.where(dense[:, 4] != 0, 7.0, 7.0)  # stored everywhere, constant
    dense[[2, 9], 0] = np.nan
    codes = sp.csr_matrix(dense)
    mask, categories = np.zeros(5, bool), [None] * 5
    sparse_spec = _tabular.input_encoding(codes, mask, categories, scaling="standard")
    dense_spec = _tabular.input_encoding(dense, mask, categories, scaling="standard")
    np.testing.assert_allclose(sparse_spec["center"], dense_spec["center"], rtol=1e-12)
    np.testing.assert_allclose(sparse_spec["scale"], dense_spec["scale"], rtol=1e-9)
    assert sparse_spec["scale"][3] == sparse_spec["scale"][4] == np.inf
    assert sparse_spec["missing"] == dense_spec["missing"] == [0]


@pytest.mark.parametrize("clip", [None, 3.0])
def test_sparse_rows_densify_to_the_bits_of_the_input_stage(clip):
    rng = np.random.default_rng(2)
    dense = np.where(rng.random((50, 4)) < 0.4, rng.normal(size=(50, 4)) * 5, 0.0)
    dense[[1, 7], 2] = np.nan
    encode = TabularInput(4, range(4), rng.normal(size=4), rng.random(4) + 0.5, clip=clip,
                          missing=[2])
    rows = SparseRows(sp.csr_matrix(dense), encode, dtype=torch.float32)
    expected = encode(torch.as_tensor(dense)).to(torch.float32)
    torch.testing.assert_close(rows[0:50], expected, rtol=0, atol=0)
    torch.testing.assert_close(rows[10:23], expected[10:23], rtol=0, atol=0)
    reordered = rows.index_select(0, torch.tensor([4, 1, 30]))
    torch.testing.assert_close(reordered[:], expected[[4, 1, 30]], rtol=0, atol=0)
    assert reordered.shape == (3, encode.n_features) and reordered.dtype == torch.float32


@pytest.mark.parametrize("categorical", [[0], [True, False, False, False, False, False]])
def test_naming_categorical_columns_of_sparse_input_is_refused(categorical):
    X, y = sparse_data()
    with pytest.raises(ValueError, match=r"X is sparse.*categorical_features=None"):
        TaskNeuronRegressor(categorical_features=categorical, **FAST).fit(X, y)
    for allowed in (None, "from_dtype", []):
        TaskNeuronRegressor(categorical_features=allowed, **{**FAST, "max_iter": 1}).fit(X, y)


def test_discovery_reads_a_bounded_dense_subsample_of_sparse_input(monkeypatch):
    X, y = sparse_data(n=400, d=10)
    seen = {}

    def record(self, X_std, targets, sample_weight, seed):
        seen["shape"] = X_std.shape
        return original(self, X_std, targets, sample_weight, seed)

    original = TaskNeuronRegressor._resolve_formula
    monkeypatch.setattr(TaskNeuronRegressor, "_resolve_formula", record)
    TaskNeuronRegressor(**{**FAST, "early_stopping": False}).fit(X, y)
    assert seen["shape"] == (400, 10)  # small: all the rows, as for dense X
    monkeypatch.setattr(_estimators, "SPARSE_DISCOVERY_VALUES", 100 * 10)
    reg = TaskNeuronRegressor(**{**FAST, "early_stopping": False}).fit(X, y)
    assert seen["shape"] == (100, 10)
    assert reg.discovery_.details["n_samples"] == 100


def test_a_wide_sparse_matrix_is_never_densified_whole():
    # 2 000 × 50 000 at 0.01 % density: 10 000 stored values; dense it is 800 MB.
    n, d = 2_000, 50_000
    rng = np.random.default_rng(0)
    nnz = n * d // 10_000
    X = sp.csr_matrix((rng.standard_normal(nnz), (rng.integers(0, n, nnz),
                                                   rng.integers(0, d, nnz))), shape=(n, d))
    y = np.asarray(X[:, :50].sum(axis=1)).ravel() + 0.1 * rng.standard_normal(n)
    dense_bytes = n * d * 8
    tracemalloc.start()  # numpy's allocations (toarray included) are traced
    try:
        reg = TaskNeuronRegressor(hidden_layer_sizes=(2,), formula="x + x**2", n_members=1,
                                  max_iter=1, batch_size=500, early_stopping=True,
                                  random_state=0).fit(X, y)
        predictions = reg.predict(X[:100])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < dense_bytes / 8
    assert predictions.shape == (100,) and np.isfinite(predictions).all()
    np.testing.assert_array_equal(predictions, reg.predict(X[:100].toarray()))


def test_a_model_fitted_on_sparse_input_exports_for_dense_input(tmp_path):
    X, y = sparse_data()
    reg = TaskNeuronRegressor(**FAST).fit(X, y)
    path = tmp_path / "model.pt"
    reg.export_torchscript(path, dtype="float64")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit's deprecation notice
        module = torch.jit.load(path)
    exported = module(torch.as_tensor(X.toarray())).numpy().ravel()
    np.testing.assert_allclose(exported, reg.predict(X), rtol=1e-5, atol=1e-6)


def test_a_model_fitted_on_sparse_input_exports_to_onnx_for_dense_input(tmp_path):
    pytest.importorskip("onnxscript")
    ort = pytest.importorskip("onnxruntime")
    X, y = sparse_data()
    clf = TaskNeuronClassifier(**FAST).fit(X, y > np.median(y))
    path = tmp_path / "model.onnx"
    clf.export_onnx(path, dtype="float64")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    probabilities = session.run(None, {"X": X.toarray()})[0]
    np.testing.assert_allclose(probabilities, clf.predict_proba(X), rtol=1e-5, atol=1e-6)


def test_a_column_missing_everywhere_has_no_indicator_with_weights_either():
    """Weighted counts of the present rows could round to just above 0, keeping an
    indicator (1 in every row) that the dense codes do not have."""
    rng = np.random.default_rng(0)
    dense = np.where(rng.random((200, 3)) < 0.5, rng.normal(size=(200, 3)), 0.0)
    dense[:, 1] = np.nan
    dense[[4, 8], 2] = np.nan
    weights = rng.random(200) * 3 + 0.1
    mask, categories = np.zeros(3, bool), [None] * 3
    sparse_spec = _tabular.input_encoding(sp.csr_matrix(dense), mask, categories,
                                          scaling="standard", sample_weight=weights)
    dense_spec = _tabular.input_encoding(dense, mask, categories, scaling="standard",
                                         sample_weight=weights)
    assert sparse_spec["missing"] == dense_spec["missing"] == [2]
    assert sparse_spec["scale"][1] == dense_spec["scale"][1] == np.inf
