"""scikit-learn's estimator contract, run on both estimators with default parameters.

No check is expected to fail: ``check_sample_weight_equivalence_on_dense_data``
passes because a fit merges identical rows into one weighted row and orders
the rows canonically (:func:`skneuron._tabular.merge_duplicate_rows`), so a
sample of weight 2 and a sample given twice are the same training data.
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skneuron import TaskNeuronClassifier, TaskNeuronRegressor


@parametrize_with_checks([TaskNeuronRegressor(), TaskNeuronClassifier()])
def test_sklearn_contract(estimator, check):
    check(estimator)
