"""Reference fit for tests/train.rs::coefficients_match_scikit_learn.

Builds a small deterministic design matrix (tests/fixtures/design_small.csv: five
standardised-like columns, 0/1 outcome `y` with positives the minority, so linfa's
"positive = more frequent class" convention is exercised) and fits it with
scikit-learn's LogisticRegression(penalty="l2", C=1/alpha, lbfgs, intercept
unpenalised), i.e. the same loss linfa-logistic minimises with alpha. Also fits
statsmodels' unpenalised Logit as a cross-check at alpha -> 0.

    pip install scikit-learn statsmodels numpy
    python3 tests/py/reference_fit.py            # prints the values hard-coded in the test
    python3 tests/py/reference_fit.py --write    # (re)writes the fixture CSV
"""
import sys

import numpy as np
from sklearn.linear_model import LogisticRegression

ALPHA = 2.0
N, P = 400, 5
TRUE = np.array([0.8, -0.6, 0.0, 1.2, -0.3])
INTERCEPT = -1.4

rng = np.random.default_rng(20260302)
X = rng.normal(size=(N, P))
X[:, 2] = (rng.random(N) < 0.3).astype(float)  # a 0/1 column
p = 1 / (1 + np.exp(-(INTERCEPT + X @ TRUE)))
y = (rng.random(N) < p).astype(int)

path = "tests/fixtures/design_small.csv"
if "--write" in sys.argv:
    with open(path, "w") as f:
        f.write(",".join([f"x{j}" for j in range(P)] + ["y"]) + "\n")
        for i in range(N):
            f.write(",".join([repr(float(v)) for v in X[i]] + [str(y[i])]) + "\n")
# Read back what the test reads, so the reference uses the exact committed numbers.
data = np.loadtxt(path, delimiter=",", skiprows=1)
X, y = data[:, :P], data[:, P].astype(int)
print("positives", y.sum(), "of", len(y))
m = LogisticRegression(C=1.0 / ALPHA, solver="lbfgs", tol=1e-12, max_iter=10000).fit(X, y)
print("sklearn alpha=%g intercept %.10f" % (ALPHA, m.intercept_[0]))
print("sklearn coef", ", ".join("%.10f" % c for c in m.coef_[0]))
try:
    import statsmodels.api as sm
    r = sm.Logit(y, sm.add_constant(X)).fit(disp=0, method="newton", tol=1e-12)
    print("statsmodels unpenalised", ", ".join("%.10f" % c for c in r.params))
except ImportError:
    pass
