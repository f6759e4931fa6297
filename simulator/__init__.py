"""Synthetic margin-financing platform: every landing feed of SPEC §2, consistent and deterministic."""
from .config import GeneratorConfig, ModelParams
from .runner import generate

__all__ = ["GeneratorConfig", "ModelParams", "generate"]
