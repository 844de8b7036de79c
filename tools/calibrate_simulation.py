"""Fit the constants of ``crlmflow.simulation.mechanism`` and print the calibration table.

Offline tool (not a Snakemake rule). Usage::

    .venv/bin/python tools/calibrate_simulation.py fit      # refit, print constants to paste
    .venv/bin/python tools/calibrate_simulation.py report   # print calibration_report()
    .venv/bin/python tools/calibrate_simulation.py cox      # Cox HR recovery, n = 50,000

Stages (common random numbers throughout, so the objectives are smooth in the parameters):

A. labs: correlations neut-lymph and plt-lymph, and
   the margin of indirect bilirubin, by least squares on the log
   quartiles of WBC, TBIL, NLR, PLR and SII (Table 1 training set);
B. CRS items: node / multi thresholds and the size median and log-sigma, by least squares
   on Table 1's CRS 1..5 distribution (pooled);
C. baselines: the OS and RFS baseline cumulative hazards at the knots, solved so that the
   marginal survival over the simulated case mix meets Table 3 (pooled) at the knots; the
   RFS targets are then corrected by the bias of the death-censored KM (dependent censoring
   through the copula) by fixed-point iteration;
D. follow-up: accrual rate and Weibull loss-to-follow-up rate and shape by Nelder-Mead on deaths,
   recurrences and the observed OS / RFS month quartiles (Table 1 training set).
C and D alternate twice.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
from scipy import optimize

from crlmflow.simulation import mechanism as sim
from crlmflow.simulation.calibration import TABLE1_TRAINING, analysis_cohort, calibration_report, pooled
from crlmflow.simulation.generator import simulate_cohort
from crlmflow.survival.km import kaplan_meier, survival_at

N_FIT = 200_000
SEED = 12345


def _km_at(time, event, t: float) -> float:
    return float(survival_at(kaplan_meier(np.asarray(time, float), np.asarray(event, float)), [t])["surv"].iloc[0])


def stage_labs(p: dict) -> dict:
    # tools only: fixed common random numbers so the objectives are smooth in the parameters
    rng = np.random.default_rng(SEED)
    e = rng.standard_normal((N_FIT, len(sim.LATENT)))
    idx = {n: i for i, n in enumerate(sim.LATENT)}
    tg = TABLE1_TRAINING
    mg = p["margins"]

    def unpack(th):
        pairs = dict(p["corr_pairs"])
        pairs[("neut", "lymph")], pairs[("plt", "lymph")] = np.tanh(th[:2])
        im, ilo, ihi = np.exp(th[2:])
        margins = dict(mg)
        margins["ibil"] = (im, im * np.exp(-ilo), im * np.exp(ihi), "log")
        return pairs, margins

    def resid(th):
        pairs, margins = unpack(th)
        z = e @ np.linalg.cholesky(sim.corr_matrix(pairs)).T
        v = {k: sim.split_normal(z[:, idx[k]], *margins[k]) for k in ("neut", "lymph", "other", "plt", "dbil", "ibil")}
        derived = {
            "wbc": v["neut"] + v["lymph"] + v["other"],
            "tbil": v["dbil"] + v["ibil"],
            "nlr": v["neut"] / v["lymph"],
            "plr": v["plt"] / v["lymph"],
            "sii": v["plt"] * v["neut"] / v["lymph"],
        }
        r = []
        for k, arr in derived.items():
            q1, med, q3 = np.percentile(arr, [25, 50, 75])
            w = 2.0 if k in ("wbc", "tbil") else 1.0
            r += list(w * (np.log([med, q1, q3]) - np.log([tg[k][0], tg[k][1], tg[k][2]])))
        return np.array(r)

    cp = p["corr_pairs"]
    im, iq1, iq3, _ = mg["ibil"]
    # plt-neut (0.45), neut/lymph-other (0.50) and the "other" leukocyte margin (monocytes +
    # eosinophils + basophils, median 0.55) are held at clinically plausible values: freeing
    # them pushes the correlations to 0.7-0.95 (or "other" to a degenerate margin) for a small
    # gain on the SII median and the WBC IQR, which Table 1 makes slightly wider than
    # NEUT + LYMPH with a near-zero NEUT-LYMPH correlation (needed by the NLR IQR) allows.
    # DBIL-IBIL is held at 0.55 (TBIL alone does not identify it).
    th0 = np.r_[
        np.arctanh([cp[("neut", "lymph")], cp[("plt", "lymph")]]), np.log([im, np.log(im / iq1), np.log(iq3 / im)])
    ]
    fit = optimize.least_squares(resid, th0, diff_step=1e-3)
    pairs, margins = unpack(fit.x)
    print("labs: rms log error", np.sqrt(np.mean(fit.fun**2)))
    return {"corr_pairs": pairs, "margins": margins}


def stage_crs(p: dict) -> dict:
    rng = np.random.default_rng(SEED + 1)
    e = rng.standard_normal((N_FIT, len(sim.LATENT)))
    z = e @ np.linalg.cholesky(sim.corr_matrix(p["corr_pairs"])).T
    idx = {n: i for i, n in enumerate(sim.LATENT)}
    cea = np.round(sim.split_normal(z[:, idx["cea"]], *p["margins"]["cea"]), 2) > 200
    target = np.array([44, 144, 170, 27, 4]) / 389

    def probs(th):
        node = z[:, idx["node"]] > th[0]
        multi = z[:, idx["multi"]] > th[1]
        size = np.round(np.exp(np.log(th[2]) + th[3] * z[:, idx["size"]]), 1) > 5
        s = 1 + node.astype(int) + multi + cea + size
        return np.bincount(s, minlength=6)[1:6] / len(s)

    def loss(th):
        # smooth the rounding steps of the size threshold a little by averaging neighbours
        return np.sum((probs(th) - target) ** 2)

    th0 = np.array([p["crs_node_threshold"], p["crs_multi_threshold"], p["size_median_cm"], p["size_log_sigma"]])
    fit = optimize.minimize(loss, th0, method="Nelder-Mead", options=dict(xatol=1e-4, fatol=1e-10, maxiter=800))
    print("crs: probs", np.round(100 * probs(fit.x), 2), "target", np.round(100 * target, 2))
    return {
        "crs_node_threshold": fit.x[0],
        "crs_multi_threshold": fit.x[1],
        "size_median_cm": fit.x[2],
        "size_log_sigma": fit.x[3],
    }


# Not a paper figure: the RFS curve is steeper over 12-24 months than log-linear interpolation
# between Table 3's 12 and 36 months, so that the observed RFS Q3 (23.3 months) can be met
# without the heavy loss to follow-up that would shorten the observed OS times.
S_RFS_24 = 0.27
OS_TARGET = {12: pooled(97.38, 97.52) / 100, 36: pooled(71.18, 72.93) / 100, 60: pooled(54.56, 51.56) / 100, 70.2: 0.5}
RFS_TARGET = {
    4.14: 0.75,
    12: pooled(52.57, 42.78) / 100,
    24: S_RFS_24,
    36: pooled(22.65, 20.96) / 100,
    60: pooled(21.12, 18.26) / 100,
    96: 0.195,
}


def _solve_h0(lp: np.ndarray, targets: dict) -> np.ndarray:
    elp = np.exp(lp)
    return np.array(
        [optimize.brentq(lambda h, s=s: np.mean(np.exp(-h * elp)) - s, 1e-9, 50.0) for s in targets.values()]
    )


def stage_baselines(p: dict, rfs_targets: dict) -> dict:
    rng = np.random.default_rng(SEED + 2)
    cm = sim.parse_case_mix(None)
    x, _ = sim.draw_covariates(N_FIT, rng, p, cm)
    lp_os, lp_rfs = sim.linear_predictors(x)
    h_os = _solve_h0(lp_os, OS_TARGET)
    slope = (h_os[-1] - h_os[-2]) / (70.2 - 60.0)
    os_knots = np.r_[0.0, list(OS_TARGET), 600.0]
    os_h0 = np.r_[0.0, h_os, h_os[-1] + slope * (600.0 - 70.2)]
    h_rfs = _solve_h0(lp_rfs, rfs_targets)
    return {
        "os_knots": os_knots,
        "os_h0": os_h0,
        "rfs_knots": np.r_[0.0, list(rfs_targets)],
        "rfs_h0": np.r_[0.0, h_rfs],
    }


def observed(p: dict, n: int = 100_000, seed: int = SEED + 3) -> pd.DataFrame:
    raw, _ = simulate_cohort(n, seed, excluded_fraction=0.0, params=p)
    return analysis_cohort(raw)


def rfs_bias_correction(p: dict, rfs_targets: dict) -> dict:
    a = observed(p)
    new = {}
    for t, s_latent in rfs_targets.items():
        km = _km_at(a["rfs_months"], a["rfs_event"], t)
        new[t] = min(0.999, s_latent * RFS_TARGET[t] / km)
    print("rfs KM at knots:", {t: round(_km_at(a["rfs_months"], a["rfs_event"], t), 4) for t in RFS_TARGET})
    return new


def stage_followup(p: dict) -> dict:
    tg = np.array([142 / 389, 278 / 389, 24.54, 34.60, 51.19, 4.14, 10.67, 23.34])
    scale = np.array([0.01, 0.01, 2.0, 2.0, 2.0, 1.0, 1.0, 2.0])  # roughly the tolerances

    def summary(th):
        q = dict(p, accrual_rate=th[0], ltfu_rate=th[1], ltfu_shape=th[2])
        a = observed(q, n=60_000)
        return np.r_[
            a["os_event"].mean(),
            a["rfs_event"].mean(),
            np.percentile(a["os_months"], [25, 50, 75]),
            np.percentile(a["rfs_months"], [25, 50, 75]),
        ]

    def loss(th):
        if th[0] < 0 or th[1] < 0 or not 0.2 < th[2] < 5:
            return 1e6
        return float(np.sum(((summary(th) - tg) / scale) ** 2))

    fit = optimize.minimize(
        loss,
        [p["accrual_rate"], p["ltfu_rate"], p["ltfu_shape"]],
        method="Nelder-Mead",
        options=dict(xatol=1e-4, fatol=1e-3, maxiter=90),
    )
    print("follow-up:", fit.x, "summary", np.round(summary(fit.x), 3), "target", np.round(tg, 3))
    return {"accrual_rate": float(fit.x[0]), "ltfu_rate": float(fit.x[1]), "ltfu_shape": float(fit.x[2])}


def fit_all() -> dict:
    p = sim.default_params()
    p.update(stage_labs(p))
    p.update(stage_crs(p))
    rfs_targets = dict(RFS_TARGET)
    for _ in range(2):
        p.update(stage_baselines(p, rfs_targets))
        p.update(stage_followup(p))
        for _ in range(2):
            rfs_targets = rfs_bias_correction(p, rfs_targets)
            p.update(stage_baselines(p, rfs_targets))
    a = observed(p)
    dead = a["os_event"] == 1
    print("deaths preceded by recurrence:", round(float(a.loc[dead, "rfs_event"].mean()), 3))
    return p


def print_constants(p: dict) -> None:
    def fmt(v):
        return f"{v:.4f}"

    print("\n# ---- paste into src/crlmflow/simulation/mechanism.py ----")
    for k in [("neut", "lymph"), ("plt", "lymph")]:
        print(f"{k}: {p['corr_pairs'][k]:.3f}")
    for k in ("ibil",):
        m = p["margins"][k]
        print(f'"{k}": ({m[0]:.3f}, {m[1]:.3f}, {m[2]:.3f}, "log")')
    for k in (
        "crs_node_threshold",
        "crs_multi_threshold",
        "size_median_cm",
        "size_log_sigma",
        "accrual_rate",
        "ltfu_rate",
        "ltfu_shape",
    ):
        print(f"{k} = {p[k]:.4f}")
    for k in ("os_knots", "os_h0", "rfs_knots", "rfs_h0"):
        print(f"{k} = [{', '.join(fmt(v) for v in p[k])}]")


def cox_recovery(n: int = 50_000, seed: int = 99) -> pd.DataFrame:
    """Fit the paper's multivariable Cox models on a large synthetic cohort (lifelines)."""
    from lifelines import CoxPHFitter

    a = observed(sim.default_params(), n=n, seed=seed)
    a["kras_mutant"] = (a["kras"] == "mutant").astype(int)
    rows = []
    for ep, truth in (("os", sim.TRUE_LOG_HR_OS), ("rfs", sim.TRUE_LOG_HR_RFS)):
        covs = [k for k in truth if k != "kras_mutant"]
        for with_kras in (False, True):
            cols = covs + (["kras_mutant"] if with_kras else [])
            cph = CoxPHFitter().fit(a[cols + [f"{ep}_months", f"{ep}_event"]], f"{ep}_months", f"{ep}_event")
            for k in cols:
                rows.append(
                    dict(
                        endpoint=ep,
                        with_kras=with_kras,
                        covariate=k,
                        true_hr=np.exp(truth[k]),
                        fitted_hr=np.exp(cph.params_[k]),
                        se_log=cph.standard_errors_[k],
                    )
                )
    return pd.DataFrame(rows)


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "report"
    if what == "fit":
        print_constants(fit_all())
    elif what == "cox":
        print(cox_recovery().round(4).to_string())
    else:
        pd.set_option("display.width", 250)
        pd.set_option("display.max_rows", 200)
        print(calibration_report().drop(columns=["note"]).to_string())
