"""Asset code of the margin-financing pipeline, one sub-package per layer.

Imports run one way: ``orchestration`` -> ``assets.<layer>`` -> ``assets.common``.
"""
