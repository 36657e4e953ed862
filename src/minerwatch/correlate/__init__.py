"""Per-host state built from observations only (never packets): staged verdicts, evidence, confidence."""
