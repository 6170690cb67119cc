"""Which app-user generator the data set uses.

"sim" is this package's users_gen.make_user; "lean" is users_lean (fast,
for big data sets: a whole app at once, wire text rendered on the way).  "gen_body" adapts the record
generator of tests/pipeline/gen_body.py (the pipeline tests' source of
nasty values) when that file exists; "auto" prefers it.
"""

from __future__ import annotations

import os
import sys
from . import users_gen, users_lean

PIPELINE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "pipeline")


def gen_body_available() -> bool:
    """True when tests/pipeline/gen_body.py exists."""
    return os.path.exists(os.path.join(PIPELINE_DIR, "gen_body.py"))


def choose_user_factory(name: str) -> tuple:
    """(factory, name actually used, truth backend or None) for
    --generator auto|sim|gen_body|lean."""
    if name == "lean":
        return users_lean.factory, "lean", None
    if name in ("auto", "gen_body") and gen_body_available():
        from . import gen_body_adapter
        return (gen_body_adapter.make_factory(PIPELINE_DIR), "gen_body",
                gen_body_adapter.TruthRows(PIPELINE_DIR))
    if name == "gen_body":
        sys.exit("countly_sim: tests/pipeline/gen_body.py not found")
    return users_gen.make_user, "sim", None
