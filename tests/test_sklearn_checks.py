"""scikit-learn's estimator contract, run on both estimators with default parameters."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skneuron import TaskNeuronClassifier, TaskNeuronRegressor

# Minibatch SGD visits a sample of weight 2 once per epoch but a duplicated
# sample twice, each time in a different batch with a different step, so the
# two fits are equal only in expectation, never to the check's tolerance.
_WEIGHTS_ARE_NOT_REPEATS = (
    "minibatch SGD: weighting a sample is equivalent to repeating it only in expectation"
)
EXPECTED_FAILED = {
    "check_sample_weight_equivalence_on_dense_data": _WEIGHTS_ARE_NOT_REPEATS,
    "check_sample_weight_equivalence_on_sparse_data": _WEIGHTS_ARE_NOT_REPEATS,
}


@parametrize_with_checks(
    [TaskNeuronRegressor(), TaskNeuronClassifier()],
    expected_failed_checks=lambda estimator: EXPECTED_FAILED,
)
def test_sklearn_contract(estimator, check):
    check(estimator)
