"""Results of a Cox fit: estimates, the three global tests and derived quantities.

Conventions as R ``summary(coxph)``: Wald z = coef/se with two-sided normal p; the
likelihood-ratio, Wald and score tests are chi-square tests against ``init``
(Therneau & Grambsch 2000, Modeling Survival Data, §3.4).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special

__all__ = ["Test", "chisq_test", "CoxResult"]


@dataclass(frozen=True)
class Test:
    chisq: float
    df: int
    p: float


def chisq_test(chisq: float, df: int) -> Test:
    """Upper-tail chi-square test of ``chisq`` on ``df`` degrees of freedom (NaN p if df = 0)."""
    # chdtrc is the chi-square upper tail ufunc (scipy.stats.chi2.sf without the overhead)
    return Test(float(chisq), int(df), float(special.chdtrc(df, chisq)) if df > 0 else float("nan"))


@dataclass
class CoxResult:
    """A fitted Cox model.

    coef/se/var/z/p: estimates, SE from the inverse observed information, Wald z and
    two-sided p.  loglik_init is at ``init`` (R's ``loglik[1]``), loglik_null at β = 0,
    loglik at the fit.  wald_test/score_test are against ``init`` (as R), lr_test is
    2·(loglik − loglik_init).  means are the column means used for centring
    (the rms / lifelines convention for ``predict_lp``).
    """

    names: list[str]
    coef: np.ndarray
    se: np.ndarray
    var: np.ndarray
    loglik_init: float
    loglik_null: float
    loglik: float
    wald_test: Test
    lr_test: Test
    score_test: Test
    n: int
    events: float
    converged: bool
    iterations: int
    ties: str
    means: np.ndarray
    cols: tuple = ()
    init: np.ndarray | None = None
    score: np.ndarray | None = None
    separated: list[str] = field(default_factory=list)

    @property
    def z(self) -> np.ndarray:
        return self.coef / self.se

    @property
    def p(self) -> np.ndarray:
        return 2.0 * special.ndtr(-np.abs(self.z))

    @property
    def hr(self) -> np.ndarray:
        return np.exp(self.coef)

    @property
    def aic(self) -> float:
        return -2.0 * self.loglik + 2.0 * self.coef.size

    def summary(self, conf_level: float = 0.95) -> pd.DataFrame:
        zc = special.ndtri(1.0 - (1.0 - conf_level) / 2.0)
        return pd.DataFrame(
            {
                "term": self.names,
                "coef": self.coef,
                "se": self.se,
                "z": self.z,
                "p": self.p,
                "hr": self.hr,
                "hr_lower": np.exp(self.coef - zc * self.se),
                "hr_upper": np.exp(self.coef + zc * self.se),
            }
        )
