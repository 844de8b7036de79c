"""Model stage: the paper's modelling procedure and what is built from the final model.

``modelling`` (screening, stepwise selection, final Cox fit and predictions per endpoint),
``nomogram`` (rms-equal points scales), ``modelfile`` (portable ``model.json`` and scoring),
``cutpoint`` (maxstat cut-off, Lausen–Schumacher and permutation p), ``riskgroups``
(high/low risk groups and their comparison).
"""
