"""Write envs/crlmflow.yaml from the pip lock, so --use-conda users get the same versions.

Usage: python tools/write_conda_env.py envs/requirements.in envs/requirements.lock envs/crlmflow.yaml
"""

import sys

from crlmflow.pipeline.envlock import conda_env_text

requirements_in, lock, out = sys.argv[1:4]
with open(out, "w", encoding="utf-8") as fh:
    fh.write(conda_env_text(requirements_in, lock))
