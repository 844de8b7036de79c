"""Survival engine: Kaplan–Meier, log-rank, Cox regression, selection and diagnostics.

Modules: ``km``, ``design``, ``cox``, ``selection``, ``diagnostics`` (each verified
against R survival 3.5-3 / MASS 7.3 fixtures in tests/survival).
"""
