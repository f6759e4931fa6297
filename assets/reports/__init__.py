"""PDF disclosure reports: the regulatory disclosure and the capital-provider statements.

marts → ``figures`` (one figures set per report, keyed by metric id) → ``charts`` (SVG) →
Jinja2 templates in ``report_templates/`` → ``render`` (WeasyPrint, PDF/A-3b, atomic write).
"""
from .figures import Figure, FigureSet, Period, ReportDataError
from .render import (
    BuiltReport,
    RenderResult,
    build_regulatory,
    html_to_pdf,
    render_regulatory_report,
    write_report,
)
from .statements import (
    IsolationError,
    build_statement,
    provider_ids,
    render_all_statements,
    render_provider_statement,
)

__all__ = [
    "BuiltReport", "Figure", "FigureSet", "IsolationError", "Period", "RenderResult", "ReportDataError",
    "build_regulatory", "build_statement", "html_to_pdf", "provider_ids", "render_all_statements",
    "render_provider_statement", "render_regulatory_report", "write_report",
]
