"""The spec language: loading, desugaring, validation (pydantic) and expansion to the IR."""
