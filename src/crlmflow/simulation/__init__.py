"""The synthetic cohort and the simulation study.

``mechanism``    the data-generating mechanism: covariates, treatment, Cox outcome times
``generator``    ``simulate_cohort``: the mechanism's draws as a raw hospital export + ground truth
``calibration``  the simulated cohort (through the real cleaner) beside the paper's figures
``study``        the simulation study of the modelling procedure: seeds, data, truth, one replicate
``performance``  its performance measures with Monte Carlo SEs, summary tables and report
"""
