"""Times scikit-learn's lbfgs on the design matrix `noshow train --export-design` wrote,
with the same penalty, and compares its coefficients with model.json.

    noshow train --lake LAKE --model MODEL --as-of T --export-design design.parquet
    python3 tests/py/bench_fit.py design.parquet MODEL/model.json

Same problem on both sides: standardised columns as in model.json, y = 1 for not
attending, L2 penalty alpha = model.json solver.l2 (scikit-learn C = 1/alpha),
intercept unpenalised. Needs pyarrow (or pandas with a Parquet engine) and scikit-learn.
"""
import json
import sys
import time

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

design_path, model_path = sys.argv[1], sys.argv[2]
model = json.load(open(model_path))
alpha = model["solver"]["l2"]

t0 = time.perf_counter()
df = pd.read_parquet(design_path)
y = df.pop("y").to_numpy()
names = list(df.columns)
X = df.to_numpy(dtype=np.float64)
t_read = time.perf_counter() - t0

for tol in (1e-4, 1e-8):
    t0 = time.perf_counter()
    m = LogisticRegression(C=1.0 / alpha, solver="lbfgs", tol=tol, max_iter=5000).fit(X, y)
    t_fit = time.perf_counter() - t0
    diffs = [abs(m.coef_[0][j] - model["coefficients"][n]) for j, n in enumerate(names)]
    print(json.dumps({
        "rows": int(X.shape[0]), "columns": int(X.shape[1]), "alpha": alpha, "sklearn_tol": tol,
        "sklearn_iterations": int(m.n_iter_[0]), "read_seconds": round(t_read, 2), "fit_seconds": round(t_fit, 2),
        "max_abs_coef_diff_vs_noshow": float(max(diffs)),
        "intercept_diff": float(abs(m.intercept_[0] - model["intercept"])),
    }))
