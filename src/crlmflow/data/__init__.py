"""Data stage: from a user's export to the analysis cohort (rules ``simulate_cohort``/``clean``, ``derive_indices``, ``split``).

``io`` (safe reading, atomic writing), ``errors`` (row/column input errors), ``columns`` (the
column contract of the CRLM layout), ``units`` (declared lab units), ``cleaning`` (CRLM
layout: validation, eligibility, survival times), ``generic`` (any study described by its
endpoints and candidates), ``cohort`` (config to cohort), ``indices`` (NLR, PLR, SII, CRS),
``split`` (seeded stratified 7:3 split).
"""
