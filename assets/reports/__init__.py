"""PDF disclosure reports: the regulatory disclosure and the capital-provider statements.

marts → ``figures`` (one figures set per report, keyed by metric id) → ``charts`` (SVG) →
Jinja2 templates in ``report_templates/`` → ``render`` (WeasyPrint, PDF/A-3b, atomic write).
"""
import importlib

# Loaded on first use (PEP 562): the Dagster definitions import the report assets, and WeasyPrint,
# matplotlib and the figures code would otherwise add ~0.5 s to every definitions load.
_EXPORTS = {
    "figures": ("Figure", "FigureSet", "Period", "ReportDataError"),
    "render": ("BuiltReport", "RenderResult", "build_regulatory", "html_to_pdf", "render_regulatory_report",
               "write_report"),
    "statements": ("IsolationError", "build_statement", "provider_ids", "render_all_statements",
                   "render_provider_statement"),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
