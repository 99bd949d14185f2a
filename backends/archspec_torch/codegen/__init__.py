"""Codegen for the torch backend: one emitter per tree-node kind (``_emit``, imported by the
backend: it needs the lowerings) and the weights loader added by ``compile --weights``
(``_weights``). The framework-free parts (identifiers, terms, the module tree) are shared
with the flax backend in :mod:`archspec.codegen`."""
