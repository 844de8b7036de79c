"""The reference analysis of a comparison (``comparison.reference``): another study config
re-run on this run's patients, e.g. the paper's analysis beside the recommended one.

:func:`reference_study` reads and validates the reference config and checks that it
analyses the same cohort: the same data source, file, cut-off and seed (the event coding
of RFS may differ: it is recoded from ``rfs_status``).
"""

from __future__ import annotations

from pathlib import Path

from crlmflow.pipeline.config import ConfigError, load_study_config, validate_config

#: ``data`` keys that may differ between the two analyses of one cohort.
CODING_KEYS = ("death_censors_rfs", "rfs_status")


def reference_study(config: dict) -> dict | None:
    """The validated reference study of ``config['comparison']['reference']``, or None.

    Raises :class:`~crlmflow.pipeline.config.ConfigError` when the reference analyses
    other patients, has an endpoint this run lacks, codes RFS deaths differently while this
    run has no ``rfs_status`` to recode them from, or splits otherwise than at random.
    """
    path = (config.get("comparison") or {}).get("reference")
    if not path:
        return None
    ref = validate_config(load_study_config(Path(path)))
    where = f"comparison.reference ({path})"
    own = {k: v for k, v in config["data"].items() if k not in CODING_KEYS}
    theirs = {k: v for k, v in ref["data"].items() if k not in CODING_KEYS}
    if own != theirs or ref["seed"] != config["seed"]:
        raise ConfigError(
            f"{where}: it must analyse the same patients as this run (same data block apart from "
            f"{', '.join(CODING_KEYS)}, and the same seed); found a different "
            + ("seed" if ref["seed"] != config["seed"] else "data block")
        )
    if ref["split"]["method"] != "random":
        raise ConfigError(f"{where}: its split.method must be 'random' (found {ref['split']['method']!r})")
    for name, ep in ref["endpoints"].items():
        mine = config["endpoints"].get(name)
        if mine is None or mine["time"] != ep["time"]:
            raise ConfigError(f"{where}: endpoint {name!r} with time {ep['time']!r} is not an endpoint of this run")
    if ref["data"]["death_censors_rfs"] != config["data"]["death_censors_rfs"] and not config["data"]["rfs_status"]:
        raise ConfigError(
            f"{where}: it codes deaths without recurrence differently (data.death_censors_rfs); "
            "set data.rfs_status: true so that its RFS can be recoded from the status"
        )
    return ref
