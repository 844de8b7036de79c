"""Report stage: labels and formats, the paper's tables, figures and exhibits.

``formats`` (the one home of labels and number formats: sets, horizons, hazard ratios,
p-values, units), ``tables`` (term labels, the forest table), ``exhibits`` (one module per
exhibit: Figure 1 counts, Tables 1-3, the nomogram JSON, performance and stability, the
paper comparison, table writing; the notebooks call these), ``plots`` (publication figures).
"""
