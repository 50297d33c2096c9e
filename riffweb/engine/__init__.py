"""riffweb's local engine: a deterministic procedural composer behind both upstream
API dialects (see README.md in this folder). Imports nothing from the studio."""
