"""Validation of right-censored survival inputs, shared by every estimator of the package.

One checker in the manner of scikit-survival's ``sksurv.util.check_y_survival`` (and
lifelines' ``utils.check_nans_or_infs``): every function taking ``(time, event, ...)``
calls :func:`check_survival` first, so all of them accept the same inputs and reject bad
input with the same message.
"""

from __future__ import annotations

import numpy as np

__all__ = ["check_survival"]


def _as_float_1d(values, name: str) -> np.ndarray:
    try:
        a = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: found values that are not numbers ({exc}); expected numbers") from None
    if a.ndim == 2 and a.shape[1] == 1:  # a single column, as sklearn's column_or_1d accepts
        a = a[:, 0]
    if a.ndim != 1:
        raise ValueError(f"{name}: found an array of shape {a.shape}; expected a 1-D array")
    return a


def _raise_first_bad(a: np.ndarray, bad: np.ndarray, name: str, expected: str) -> None:
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{name}: {int(bad.sum())} of {a.size} values are invalid, the first at position {i} "
            f"(0-based): found {float(a[i])!r}; expected {expected}"
        )


def check_survival(time, event, *arrays, names=None, allow_zero_time: bool = True):
    """Validate right-censored survival data and return it as float arrays.

    Checks, in this order, that every input is a 1-D array (a single column ``(n, 1)`` is
    accepted and flattened) of numbers; that all have the length of ``time``; that ``time``
    and every array in ``arrays`` are finite; that ``event`` is coded 0/1 (booleans
    accepted); and that ``time`` is non-negative (strictly positive when
    ``allow_zero_time=False``). Nothing is dropped: the first violation raises, naming it.
    The contract is that of scikit-survival's ``check_y_survival`` (Pölsterl, JMLR 21:212,
    2020) for right-censored data in R's ``Surv(time, event)`` coding.

    Parameters
    ----------
    time : array_like, shape (n,)
        Observed follow-up time (event or censoring).
    event : array_like, shape (n,)
        Event indicator: 1 (or True) = event, 0 (or False) = censored.
    *arrays : array_like, shape (n,)
        Further per-subject arrays (a marker, a linear predictor, predicted survival) that
        must be finite and as long as ``time``.
    names : sequence of str, optional
        Names used in error messages, one per input in order (time, event, arrays...).
        Defaults to ``"time"``, ``"event"``, ``"array 1"``, ``"array 2"``, ...
    allow_zero_time : bool, default True
        Whether a follow-up time of exactly 0 is valid (R's ``survfit`` and ``coxph``
        accept it; a parametric model on log-time would not).

    Returns
    -------
    tuple of numpy.ndarray
        ``(time, event, *arrays)`` as float64 arrays of shape (n,); ``event`` holds 0.0/1.0.

    Raises
    ------
    ValueError
        Naming the input, the number of offending values, the position and value of the
        first, and what was expected.

    Examples
    --------
    >>> t, e, x = check_survival([5, 3.5], [True, False], [0.2, -1.0], names=("t", "d", "lp"))
    >>> e
    array([1., 0.])
    """
    n_inputs = 2 + len(arrays)
    if names is None:
        names = ["time", "event"] + [f"array {k + 1}" for k in range(len(arrays))]
    names = list(names)
    if len(names) != n_inputs:
        raise ValueError(f"names: found {len(names)} names for {n_inputs} inputs; expected one per input")
    out = [_as_float_1d(v, nm) for v, nm in zip((time, event, *arrays), names)]
    t, e = out[0], out[1]
    for a, nm in zip(out[1:], names[1:]):
        if a.shape != t.shape:
            raise ValueError(f"{nm}: found {a.size} values; expected {t.size}, one per value of {names[0]}")
    for a, nm in zip([t, *out[2:]], [names[0], *names[2:]]):
        _raise_first_bad(a, ~np.isfinite(a), nm, "a finite number (drop or impute missing rows first)")
    _raise_first_bad(e, ~np.isin(e, (0.0, 1.0)), names[1], "0 (censored) or 1 (event)")
    if allow_zero_time:
        _raise_first_bad(t, t < 0, names[0], "a time >= 0")
    else:
        _raise_first_bad(t, t <= 0, names[0], "a time > 0")
    return tuple(out)
