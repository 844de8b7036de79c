"""Report stage: labels and formats, the paper's tables, figures and exhibits.

``formats`` (one home for labels and number formats: sets, horizons, hazard ratios,
p-values, units), ``tables`` (tabulation helpers), ``exhibits`` (builders of Tables 1–3 and
the paper comparison, called by the notebooks), ``plots`` (publication figures).
"""
