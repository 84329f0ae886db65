"""TabularEncoder: the command line's default preprocessing."""

import tracemalloc

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from skneuron.preprocessing import TabularEncoder

pd = pytest.importorskip("pandas")


def test_numbers_pass_categories_become_indicators_unseen_and_missing_are_zeros():
    train = pd.DataFrame({"n": [1.0, 2.0, np.nan, 10.0], "c": ["a", "b", "a", None],
                          "flag": [True, False, True, True]})
    enc = TabularEncoder().fit(train)
    assert enc.medians_ == {"n": 2.0}
    assert enc.categories_ == {"c": ["a", "b"], "flag": ["False", "True"]}
    test = pd.DataFrame({"flag": [False, True], "c": ["z", None], "n": [np.nan, 5.0],
                         "extra": [0, 0]})  # order and extra columns do not matter
    np.testing.assert_array_equal(enc.transform(test), [[2.0, 0, 0, 1, 0], [5.0, 0, 0, 0, 1]])
    assert enc.get_feature_names_out().tolist() == ["n", "c=a", "c=b", "flag=False", "flag=True"]


def test_max_categories_keeps_the_most_frequent():
    enc = TabularEncoder(max_categories=2).fit(pd.DataFrame({"c": list("aaabbc")}))
    assert enc.categories_ == {"c": ["a", "b"]}


def test_missing_columns_and_text_in_numeric_columns_are_errors():
    enc = TabularEncoder().fit(pd.DataFrame({"n": [1.0, 2.0], "c": ["a", "b"]}))
    with pytest.raises(ValueError, match=r"missing the column\(s\) \['c'\]"):
        enc.transform(pd.DataFrame({"n": [1.0]}))
    with pytest.raises(ValueError, match="was numeric in fit"):
        enc.transform(pd.DataFrame({"n": ["x"], "c": ["a"]}))


@parametrize_with_checks([TabularEncoder()])
def test_scikit_learn_checks(estimator, check):
    """scikit-learn's estimator contract: 1-D, empty, complex and sparse input are refused
    with its messages, and an array of another width at transform too."""
    check(estimator)


def test_arrays_must_keep_their_width_frames_are_matched_by_name():
    enc = TabularEncoder().fit(np.array([[1.0, 2.0], [3.0, 4.0]]))
    with pytest.raises(ValueError, match="X has 3 features, but TabularEncoder is expecting 2"):
        enc.transform(np.ones((1, 3)))
    frame = pd.DataFrame({"extra": ["x"], "1": [5.0], "0": [6.0]})  # names "0", "1" from fit
    np.testing.assert_array_equal(enc.transform(frame), [[6.0, 5.0]])


def test_transform_allocates_its_output_once():
    """Indicators are written into the output, not stacked from blocks as large as it."""
    frame = pd.DataFrame({"n": np.arange(4000.0), "c": [str(i % 500) for i in range(4000)]})
    enc = TabularEncoder(max_categories=500).fit(frame)
    enc.transform(frame)  # imports and caches outside the measurement
    tracemalloc.start()
    try:
        encoded = enc.transform(frame)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert encoded.shape == (4000, 501) and encoded[:, 1:].sum() == 4000
    assert peak < 1.25 * encoded.nbytes, (peak, encoded.nbytes)
