"""scikit-learn's estimator contract, run on both estimators with default parameters."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skneuron import TaskNeuronClassifier, TaskNeuronRegressor

# Weights reach the scaling, discovery, the loss and the L2 penalty's scale, so a weight
# of k and k copies of a row pose the same problem (tests/test_sample_weight.py), and both
# estimators pass check_sample_weight_equivalence_*: its fits are small enough to train
# in float64 (FLOAT64_TRAINING_ROWS), where the two agree to 1e-12 and better.
# No check is expected to fail.


@parametrize_with_checks([TaskNeuronRegressor(), TaskNeuronClassifier()])
def test_sklearn_contract(estimator, check):
    check(estimator)
