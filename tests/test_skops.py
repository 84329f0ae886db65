"""skops.io round trips, and the pickled state they rely on: numpy arrays, no torch objects."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning

from skneuron import NeuronFormula, TaskNeuronClassifier, TaskNeuronRegressor
from skneuron.persistence import skops_trusted_types

sio = pytest.importorskip("skops.io")
pd = pytest.importorskip("pandas")

FAST = {"hidden_layer_sizes": (8,), "max_iter": 5, "batch_size": 32, "random_state": 0}

# Short test fits stop at max_iter on purpose.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _frame(n=150, seed=0):
    rng = np.random.RandomState(seed)
    return pd.DataFrame({
        "a": rng.randn(n),
        "b": rng.uniform(-2, 2, n),
        "colour": pd.Categorical(rng.choice(["red", "green", "blue"], n)),
    })


def _fit(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


def _skops_round_trip(estimator, tmp_path):
    """Dump and load as the docs say: trusting the fixed list, not what the file names."""
    path = tmp_path / "model.skops"
    sio.dump(estimator, path)
    untrusted = sio.get_untrusted_types(file=path)
    return sio.load(path, trusted=skops_trusted_types()), untrusted


CASES = {
    "regressor": lambda X: (TaskNeuronRegressor(**FAST), 2 * X["a"] + (X["colour"] == "red")),
    "multioutput-regressor": lambda X: (
        TaskNeuronRegressor(**FAST, n_members=1),
        np.column_stack([X["a"] * X["b"], X["b"]])),
    "binary": lambda X: (TaskNeuronClassifier(**FAST), np.where(X["a"] > 0, "yes", "no")),
    "multiclass-sr": lambda X: (
        TaskNeuronClassifier(**FAST, discovery="sr"),
        np.where(X["a"] > 0.5, 2, np.where(X["colour"] == "red", 1, 0))),
    "multilabel": lambda X: (
        TaskNeuronClassifier(**FAST), np.column_stack([X["a"] > 0, X["colour"] == "red"]).astype(int)),
    "given-formula": lambda X: (
        TaskNeuronClassifier(**FAST, formula="x + sin(x) + inter(2, rank=2)"), X["b"] > 0),
}


@pytest.mark.parametrize("case", list(CASES))
def test_skops_round_trip_predicts_the_same_trusting_skneuron_types_only(case, tmp_path):
    X = _frame()
    estimator, y = CASES[case](X)
    estimator = _fit(estimator, X, y)
    loaded, untrusted = _skops_round_trip(estimator, tmp_path)

    assert untrusted, "an estimator is never trusted by default"
    assert set(untrusted) <= set(skops_trusted_types()), untrusted
    assert type(loaded) is type(estimator)
    np.testing.assert_array_equal(loaded.predict(X), estimator.predict(X))
    if hasattr(estimator, "predict_proba"):
        np.testing.assert_array_equal(loaded.predict_proba(X), estimator.predict_proba(X))
        np.testing.assert_array_equal(loaded.classes_, estimator.classes_)
    assert loaded.formula_ == estimator.formula_
    assert loaded.device_ == torch.device("cpu")
    np.testing.assert_array_equal(loaded.categories_[2], estimator.categories_[2])


def test_a_pipeline_with_scikit_learn_steps_needs_only_skneuron_types_trusted(tmp_path):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = _frame()[["a", "b"]].to_numpy()
    pipe = _fit(make_pipeline(StandardScaler(), TaskNeuronRegressor(**FAST)), X, X[:, 0] ** 2)
    loaded, untrusted = _skops_round_trip(pipe, tmp_path)
    assert all(name.startswith("skneuron.") for name in untrusted), untrusted
    np.testing.assert_array_equal(loaded.predict(X), pipe.predict(X))


def test_skops_refuses_to_load_without_trusting_the_estimator(tmp_path):
    X = _frame()
    estimator = _fit(TaskNeuronRegressor(**FAST), X, X["a"])
    path = tmp_path / "model.skops"
    sio.dump(estimator, path)
    with pytest.raises(Exception, match="[Uu]ntrusted"):
        sio.load(path)


def test_the_trusted_list_refuses_a_file_that_asks_for_a_function(tmp_path):
    """A file whose one object is os.system("touch ...") — which get_untrusted_types lists,
    so trusting that list would run it — is refused by the fixed list, and nothing runs."""
    import json
    import zipfile

    marker = tmp_path / "ran"
    schema = {
        "__class__": "system", "__module__": "os", "__loader__": "ConstructorFromReduceNode",
        "content": {"__class__": "tuple", "__module__": "builtins", "__loader__": "TupleNode",
                    "content": [{"__class__": "str", "__module__": "builtins",
                                 "__loader__": "JsonNode", "content": json.dumps(f"touch {marker}"),
                                 "is_json": True, "__id__": 2}], "__id__": 3},
        "__id__": 1, "protocol": 2, "_skops_version": "0.16.0"}
    path = tmp_path / "crafted.skops"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("schema.json", json.dumps(schema))
    assert sio.get_untrusted_types(file=path) == ["os.system"]
    with pytest.raises(Exception, match="[Uu]ntrusted"):
        sio.load(path, trusted=skops_trusted_types())
    assert not marker.exists()


def test_the_trusted_list_names_skneurons_own_types_only():
    names = skops_trusted_types()
    assert names == sorted(set(names)) and all(name.startswith("skneuron.") for name in names)
    assert {"skneuron._estimators.TaskNeuronRegressor", "skneuron._estimators.TaskNeuronClassifier",
            "skneuron.preprocessing.TabularEncoder", "skneuron.formula.NeuronFormula",
            "skneuron.discovery._result.DiscoveryResult"} == set(names)


def test_a_skops_loaded_estimator_keeps_training_with_warm_start(tmp_path):
    X = _frame()
    y = 2 * X["a"] - X["b"]
    estimator = _fit(TaskNeuronRegressor(**FAST, warm_start=True), X, y)
    loaded, _ = _skops_round_trip(estimator, tmp_path)
    _fit(loaded, X, y)
    assert loaded.n_iter_ == 2 * estimator.n_iter_
    assert loaded.formula_ == estimator.formula_
    assert not np.array_equal(loaded.predict(X), estimator.predict(X))


def test_the_pickled_state_holds_the_network_as_numpy_arrays():
    X = _frame()
    estimator = _fit(TaskNeuronClassifier(**FAST), X, X["a"] > 0)
    state = estimator.__getstate__()
    network = state["network_"]
    assert isinstance(network, dict) and network
    assert all(isinstance(array, np.ndarray) for array in network.values())
    assert network.keys() == estimator.network_.state_dict().keys()
    assert state["device_"] == "cpu"
    # the live estimator keeps its module and device
    assert isinstance(estimator.network_, torch.nn.Module)
    assert estimator.device_ == torch.device("cpu")


def _torch_objects(value, seen=None):
    """Types from torch (or sympy, tensorly) anywhere in ``value``'s plain containers."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return set()
    seen.add(id(value))
    found = set()
    module = type(value).__module__ or ""
    if module.split(".")[0] in ("torch", "sympy", "tensorly"):
        found.add(f"{module}.{type(value).__name__}")
    if isinstance(value, dict):
        items = value.values()
    elif isinstance(value, (list, tuple)):
        items = value
    elif hasattr(value, "__getstate__") and not isinstance(value, (type, np.ndarray, str)):
        state = value.__getstate__()
        items = state.values() if isinstance(state, dict) else ()
    else:
        items = ()
    for item in items:
        found |= _torch_objects(item, seen)
    return found


@pytest.mark.parametrize("discovery", ["td", "sr"])
def test_the_pickled_state_holds_no_torch_sympy_or_tensorly_object(discovery):
    X = _frame()
    estimator = _fit(TaskNeuronRegressor(**FAST, discovery=discovery), X, X["a"] ** 2)
    assert _torch_objects(estimator.__getstate__()) == set()


def test_pickle_round_trip_keeps_discovery_details_and_formula():
    X = _frame()
    estimator = _fit(TaskNeuronRegressor(**FAST, formula="auto"), X, X["a"] * X["b"])
    loaded = pickle.loads(pickle.dumps(estimator))
    factors = estimator.discovery_.details["interaction_factors"]
    loaded_factors = loaded.discovery_.details["interaction_factors"]
    assert factors.keys() == loaded_factors.keys()
    for order, cp in factors.items():
        assert type(loaded_factors[order]) is type(cp)
        np.testing.assert_array_equal(loaded_factors[order].weights, cp.weights)
        for mine, theirs in zip(loaded_factors[order].factors, cp.factors):
            np.testing.assert_array_equal(mine, theirs)
    np.testing.assert_array_equal(loaded.predict(X), estimator.predict(X))


def test_a_pickle_holding_the_network_module_still_loads():
    """Pickles written before the network travelled as arrays hold the module itself."""
    X = _frame()
    estimator = _fit(TaskNeuronRegressor(**FAST), X, X["a"])
    state = estimator.__getstate__()
    state["network_"], state["device_"] = estimator.network_, torch.device("cpu")
    old = TaskNeuronRegressor.__new__(TaskNeuronRegressor)
    old.__setstate__(state)
    np.testing.assert_array_equal(old.predict(X), estimator.predict(X))


def test_a_formula_pickles_without_its_cached_expressions():
    formula = NeuronFormula.parse("x + sin(x) + cos(x)")
    assert formula.to_sympy() is not None  # fills the cache
    loaded = pickle.loads(pickle.dumps(formula))
    assert loaded == formula and "_function_expressions" not in formula.__getstate__()
    assert str(loaded.to_sympy()) == str(formula.to_sympy())


def test_a_tampered_pickled_formula_is_refused():
    state = NeuronFormula.parse("x + x**2").__getstate__()
    state["pure_orders"] = (1, 99)
    with pytest.raises(ValueError, match="MAX_POWER"):
        NeuronFormula.__new__(NeuronFormula).__setstate__(state)


def test_network_arrays_that_do_not_fit_the_estimator_are_refused():
    X = _frame()
    estimator = _fit(TaskNeuronRegressor(**FAST), X, X["a"])
    state = estimator.__getstate__()
    name = next(iter(k for k, v in state["network_"].items() if v.ndim == 2))
    state["network_"][name] = state["network_"][name][:, :1]
    with pytest.raises(ValueError, match="do not fit"):
        TaskNeuronRegressor.__new__(TaskNeuronRegressor).__setstate__(state)


@pytest.mark.parametrize("tamper, message", [
    (lambda state: state.pop("n_features_in_"), "n_features_in_ is missing"),
    (lambda state: state.update(device_="bogus"), "device_ must be a device; got 'bogus'"),
    (lambda state: state.update(loss_curve_="os.system"), "loss_curve_ must be a list of numbers"),
])
def test_a_tampered_state_is_refused_as_a_tampered_model_file_is(tamper, message):
    """skops.io.load sets a state as pickle does: the fitted attributes are checked as
    skneuron.load checks them, not left to fail later inside predict."""
    X = _frame()
    state = _fit(TaskNeuronRegressor(**FAST), X, X["a"]).__getstate__()
    tamper(state)
    with pytest.raises(ValueError, match=message):
        TaskNeuronRegressor.__new__(TaskNeuronRegressor).__setstate__(state)


@pytest.mark.parametrize("tamper", [
    lambda optimizer: optimizer.update(lr=float("nan")),
    lambda optimizer: optimizer.update(steps=1e300),
    lambda optimizer: optimizer.pop("betas"),
    lambda optimizer: optimizer["exp_avg_sqs"].__setitem__(0, -optimizer["exp_avg_sqs"][0] - 1),
    lambda optimizer: optimizer["exp_avgs"].__setitem__(0, optimizer["exp_avgs"][0] * np.inf),
])
def test_a_tampered_optimiser_state_is_refused_on_loading_not_in_partial_fit(tamper):
    X = _frame()
    estimator = _fit(TaskNeuronRegressor(**FAST), X, X["a"])
    state = estimator.__getstate__()
    assert isinstance(state["_optimizer"], dict)
    TaskNeuronRegressor.__new__(TaskNeuronRegressor).__setstate__(dict(state))  # as saved: fine
    tamper(state["_optimizer"])
    with pytest.raises(ValueError, match="_optimizer must be None or an optimiser state"):
        TaskNeuronRegressor.__new__(TaskNeuronRegressor).__setstate__(state)
