"""Reference AUC and DeLong interval for tests/train.rs::auc_interval_matches_a_python_reference.

Builds a small deterministic fixture (tests/fixtures/auc_small.csv: a score rounded
to two decimals, so there are ties, and a 0/1 outcome with about a quarter
positives) and computes, independently of noshow's rank-based code:

- the AUC with scikit-learn's roc_auc_score;
- DeLong's variance from its definition, with every positive-negative pair
  compared directly (psi = 1 above, 1/2 tied, 0 below): the structural components
  V10 (per positive) and V01 (per negative), their sample variances S10 and S01
  (denominators m-1 and n-1), Var = S10/m + S01/n;
- the 95 % interval AUC -/+ 1.959963984540054 * sqrt(Var), clipped to [0, 1].

    pip install scikit-learn numpy
    python3 tests/py/reference_delong.py            # prints the values hard-coded in the test
    python3 tests/py/reference_delong.py --write    # (re)writes the fixture CSV
"""
import sys

import numpy as np
from sklearn.metrics import roc_auc_score

N = 120
rng = np.random.default_rng(16)
x = rng.normal(size=N)
y = (rng.random(N) < 1 / (1 + np.exp(-(-1.2 + 1.1 * x)))).astype(int)
score = np.round(1 / (1 + np.exp(-(x + rng.normal(scale=1.0, size=N)))), 2)

if "--write" in sys.argv:
    with open("tests/fixtures/auc_small.csv", "w") as f:
        f.write("score,y\n")
        for s, t in zip(score, y):
            f.write(f"{s:.2f},{t}\n")

data = np.loadtxt("tests/fixtures/auc_small.csv", delimiter=",", skiprows=1)
score, y = data[:, 0], data[:, 1].astype(int)
pos, neg = score[y == 1], score[y == 0]
m, n = len(pos), len(neg)
psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
v10 = psi.mean(axis=1)
v01 = psi.mean(axis=0)
auc = roc_auc_score(y, score)
assert abs(auc - psi.mean()) < 1e-12
var = v10.var(ddof=1) / m + v01.var(ddof=1) / n
half = 1.959963984540054 * np.sqrt(var)
print(f"rows {len(y)} positives {m} negatives {n}")
print(f"auc {auc:.12f} variance {var:.12e} low {max(0.0, auc - half):.12f} high {min(1.0, auc + half):.12f}")
