"""The synthetic cohort and the simulation study.

``generator`` (calibrated data-generating model: a raw hospital export with a known truth),
``study`` (the simulation study of the modelling procedure against that truth).
"""
