"""Codegen for the Flax backend: one emitter per module-tree kind (``_emit``), on top of the
framework-free namespace, terms and tree of :mod:`archspec.codegen`."""
