"""The conda file used by --use-conda pins the same versions as the pip lock."""

from crlmflow.pipeline.envlock import conda_env_text, conda_pins, locked_versions, top_level_names


def test_conda_env_matches_lock(repo_root):
    envs = repo_root / "envs"
    lock = locked_versions(str(envs / "requirements.lock"))
    conda = conda_pins(str(envs / "crlmflow.yaml"))
    wanted = top_level_names(str(envs / "requirements.in"))
    assert sorted(conda) == sorted(wanted)
    for name, version in conda.items():
        assert lock[name] == version, f"{name}: conda pins {version}, lock pins {lock[name]}"


def test_conda_env_file_is_generated_text(repo_root):
    envs = repo_root / "envs"
    expected = conda_env_text(str(envs / "requirements.in"), str(envs / "requirements.lock"))
    assert (envs / "crlmflow.yaml").read_text(encoding="utf-8") == expected


def test_lock_pins_the_named_packages(repo_root):
    lock = locked_versions(str(repo_root / "envs" / "requirements.lock"))
    for name in ["snakemake", "pandas", "lifelines", "matplotlib", "scikit-learn", "papermill", "jupyter-core"]:
        assert name in lock
    assert lock["pandas"].startswith("2."), "lifelines 0.30 needs pandas < 3"
