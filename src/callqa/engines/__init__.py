"""Where the calls of a batch run: this machine's processes (``local``) or a Ray cluster (``ray``).

Both take a :class:`BatchSpec` and give back a :class:`BatchRun` (transcription
results and, when scoring, one CallScore per call, in input order); both
record every call through asr/batch_output.py's BatchOutput, so either engine
resumes the other's work. Writing calls.jsonl, the database and the CSVs is
the caller's (cli/score_cmd.py), the same for every engine.
"""

from __future__ import annotations

from .base import ENGINES, BatchRun, BatchSpec, Engine, EngineOptions, ScoringSpec, VerificationCost

__all__ = ["ENGINES", "BatchRun", "BatchSpec", "Engine", "EngineOptions", "ScoringSpec", "VerificationCost",
           "engine_for"]


def engine_for(options: EngineOptions) -> Engine:
    """The engine ``options`` names; the Ray one imports Ray only when it runs."""
    if options.name == "ray":
        from .ray_engine import RayEngine

        return RayEngine(options)
    from .local import LocalEngine

    return LocalEngine(options)
