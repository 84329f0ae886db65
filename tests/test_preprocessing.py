"""TabularEncoder: the command line's default preprocessing."""

import numpy as np
import pytest

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
