"""Shared fixtures. The public capture corpus is reached through `corpus` alone, and never copied here."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CORPUS_DIR = Path(os.environ.get("MINERWATCH_CORPUS", Path(__file__).resolve().parents[2] / "shared" / "corpus"))


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The read-only corpus of public captures (../shared/corpus, or $MINERWATCH_CORPUS)."""
    if not (CORPUS_DIR / "INDEX.md").is_file():
        pytest.skip(f"public capture corpus not found at {CORPUS_DIR} (set MINERWATCH_CORPUS to use it)")
    return CORPUS_DIR
