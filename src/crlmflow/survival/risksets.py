"""Risk sets of right-censored data, as the Cox partial likelihood walks them.

Method: rows sorted by descending time (deaths first within a tied time), the risk set
of the g-th distinct event time is then a prefix of the sorted rows and its deaths one
contiguous block, so every risk-set sum is a cumulative sum read off at ``risk_end``
(Therneau & Grambsch 2000, Modeling Survival Data, §3.3; R ``survival`` agsurv/coxfit).

Tied deaths enter the likelihood as *terms*: Efron (1977) splits a time with d tied
deaths into d terms k = 0..d−1 whose risk-set sum is R − (k/d)·D (R: the risk set, D:
the dying block); Breslow (1974) keeps one term of multiplicity d with the full R.
With frequency weights, d is the summed weight of the tied deaths (integer for Efron).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

__all__ = ["RiskSets", "risk_sets"]


@dataclass(frozen=True)
class RiskSets:
    """Risk-set structure of n rows with G distinct event times.

    Positions are in the sorted order (``order[i]`` is the data row at sorted position
    i); groups g = 0..G−1 are the distinct event times in descending order.

    Attributes
    ----------
    ties : "efron" or "breslow"
    order : (n,) data row of each sorted position (descending time, deaths first)
    event_times : (G,) distinct event times, descending
    risk_end : (G,) last sorted position at risk at each event time
    row_first_group : (n,) first group whose risk set holds each sorted position (G if none)
    death_pos : (D,) sorted positions of the deaths, grouped by event time
    death_start : (G,) index into ``death_pos`` of each group's first death
    death_group : (D,) group of each death
    block_start, block_end : (G,) sorted positions of each group's first and last death
    weights : (n,) frequency weights in sorted order
    death_weights : (D,) weights of the deaths
    deaths : (G,) summed death weight per group (d_g)
    term_group : (K,) group of each tie-correction term (sorted by group)
    term_frac : (K,) Efron fraction k/d of each term (0 for Breslow)
    term_weight : (K,) multiplicity of each term (1 for Efron, d_g for Breslow)
    """

    ties: str
    order: np.ndarray
    event_times: np.ndarray
    risk_end: np.ndarray
    row_first_group: np.ndarray
    death_pos: np.ndarray
    death_start: np.ndarray
    death_group: np.ndarray
    block_start: np.ndarray
    block_end: np.ndarray
    weights: np.ndarray
    death_weights: np.ndarray
    deaths: np.ndarray
    term_group: np.ndarray
    term_frac: np.ndarray
    term_weight: np.ndarray

    @property
    def n(self) -> int:
        return int(self.order.size)

    @property
    def n_groups(self) -> int:
        return int(self.risk_end.size)

    def with_weights(self, weights) -> RiskSets:
        """The same structure with other frequency weights (given in data-row order)."""
        return _weighted(self, _check_weights(weights, self.n, self.ties)[self.order], self.ties)

    def with_ties(self, ties: str) -> RiskSets:
        """The same structure and weights under another tie method."""
        return _weighted(self, self.weights, _check_ties(ties))


def risk_sets(time, event, weights=None, ties: str = "efron", order=None) -> RiskSets:
    """Sort (time, event) once and record every risk set and tied-death block.

    ``time`` finite, ``event`` 0/1, ``weights`` non-negative frequency weights (integer
    for Efron ties); arrays in data-row order.  ``order``: the sort, when already known (the
    rows of a subset keep their order in the sorted whole, e.g. a bootstrap sample's distinct
    rows); checked, and it must be the stable one (ties in data-row order), so that the
    risk sets are those a fresh sort gives, to the last bit.
    """
    t = np.asarray(time, dtype=float)
    e = np.asarray(event, dtype=float)
    n = t.size
    ties = _check_ties(ties)
    w = _check_weights(weights, n, ties)
    order = np.lexsort((-e, -t)) if order is None else _check_order(order, t, e)
    ts, es = t[order], e[order]
    death_pos = np.flatnonzero(es == 1.0)
    dt = ts[death_pos]
    new = np.ones(dt.size, dtype=bool)
    new[1:] = dt[1:] != dt[:-1]
    death_start = np.flatnonzero(new)
    event_times = dt[new]
    risk_end = np.searchsorted(-ts, -event_times, side="right") - 1
    block_end = np.append(death_pos[death_start[1:] - 1], death_pos[-1]) if death_pos.size else death_pos
    empty = np.zeros(0)
    base = RiskSets(
        ties=ties,
        order=order,
        event_times=event_times,
        risk_end=risk_end,
        row_first_group=np.searchsorted(risk_end, np.arange(n), side="left"),
        death_pos=death_pos,
        death_start=death_start,
        death_group=np.cumsum(new) - 1,
        block_start=death_pos[death_start],
        block_end=block_end,
        weights=empty,
        death_weights=empty,
        deaths=empty,
        term_group=empty,
        term_frac=empty,
        term_weight=empty,
    )
    return _weighted(base, w[order], ties)


def _check_order(order, t: np.ndarray, e: np.ndarray) -> np.ndarray:
    """``order`` if it is the stable sort by descending time, deaths first (ValueError if not)."""
    o = np.asarray(order)
    n = t.size
    if o.shape != (n,) or not np.issubdtype(o.dtype, np.integer) or not (np.bincount(o, minlength=n) == 1).all():
        raise ValueError(f"order must be a permutation of the {n} rows")
    ts, es = t[o], e[o]
    same_t = ts[1:] == ts[:-1]
    same = same_t & (es[1:] == es[:-1])
    if (ts[1:] > ts[:-1]).any() or (same_t & (es[1:] > es[:-1])).any() or (same & (o[1:] < o[:-1])).any():
        raise ValueError("order must sort the rows by descending time, deaths first, ties in row order")
    return o


def _check_ties(ties: str) -> str:
    if ties not in ("efron", "breslow"):
        raise ValueError(f"ties must be 'efron' or 'breslow', got {ties!r}")
    return ties


def _check_weights(weights, n: int, ties: str) -> np.ndarray:
    if weights is None:
        return np.ones(n)
    w = np.asarray(weights, dtype=float)
    if w.shape != (n,) or (w < 0).any() or not np.isfinite(w).all():
        raise ValueError(f"weights must be non-negative and finite, one per row ({n}); got shape {w.shape}")
    if ties == "efron" and not np.allclose(w, np.round(w)):
        raise ValueError("Efron ties need integer frequency weights")
    return w


def _weighted(rs: RiskSets, ws: np.ndarray, ties: str) -> RiskSets:
    """Attach sorted weights ``ws`` and the tie-correction terms they imply."""
    wd = ws[rs.death_pos]
    d_g = np.add.reduceat(wd, rs.death_start) if wd.size else np.zeros(0)
    live = np.flatnonzero(d_g > 0)
    if ties == "efron":
        cnt = np.round(d_g[live]).astype(int)
        grp = np.repeat(live, cnt)
        first = np.repeat(np.cumsum(cnt) - cnt, cnt)
        frac = (np.arange(grp.size) - first) / np.repeat(cnt, cnt).astype(float)
        mult = np.ones(grp.size)
    else:
        grp, frac, mult = live, np.zeros(live.size), d_g[live]
    return replace(
        rs, ties=ties, weights=ws, death_weights=wd, deaths=d_g, term_group=grp, term_frac=frac, term_weight=mult
    )
