"""Model-performance measures for survival predictions, verified against R.

Each function takes plain arrays (time, event, and a marker / linear predictor / predicted
survival) so it is independent of the model fitter.  R counterparts:

* ``concordance_index`` – survival::concordance (Harrell's C, counts, infinitesimal-jackknife SE)
* ``time_dependent_roc`` – survivalROC::survivalROC(method = "KM")
* ``cumulative_dynamic_auc`` / ``brier_score`` – riskRegression::Score(cens.model = "km")
* ``calibration_km_grouped`` – rms::calibrate(cmethod = "KM"), apparent columns
* ``smooth_calibration`` / ``calibration_slope`` – Austin, Harrell & van Klaveren (2020); Cox slope
* ``net_benefit`` – Vickers' survival decision curve (stdca, KM method)
"""

from crlmflow.validation.calibration import (
    CalibrationSlope,
    GroupedCalibration,
    SmoothCalibration,
    calibration_km_grouped,
    calibration_slope,
    smooth_calibration,
)
from crlmflow.validation.concordance import ConcordanceResult, concordance_index
from crlmflow.validation.decision_curve import net_benefit
from crlmflow.validation.roc import (
    IPCWAUC,
    BrierScore,
    TimeDependentROC,
    brier_score,
    cumulative_dynamic_auc,
    time_dependent_roc,
)

__all__ = [
    "BrierScore",
    "CalibrationSlope",
    "ConcordanceResult",
    "GroupedCalibration",
    "IPCWAUC",
    "SmoothCalibration",
    "TimeDependentROC",
    "brier_score",
    "calibration_km_grouped",
    "calibration_slope",
    "concordance_index",
    "cumulative_dynamic_auc",
    "net_benefit",
    "smooth_calibration",
    "time_dependent_roc",
]
