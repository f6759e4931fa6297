"""Jinja2 + WeasyPrint → PDF/A-3b, with the machine-readable figures embedded and written beside.

Two stages, so a benchmark can time the bare PDF render of HTML built beforehand:

1. build: marts → ``FigureSet`` → charts → HTML (``build_regulatory``; statements in
   ``statements.build_statement``), returned as a ``BuiltReport``;
2. write: HTML → WeasyPrint ``Document`` → PDF/A-3b (``html_to_pdf`` is the bare render), written
   atomically with its figures files (``write_report``).

Atomic write: every output goes to a temp file in its final directory, is fsynced, optionally
verified, and only then moved into place with ``os.replace`` (PDF last). A run that fails or is
killed midway leaves the previous files (or none) and no half-written PDF; temp files of a failed
run are removed.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO

import jinja2

from assets.common.settings import REPO_ROOT
from assets.common.warehouse import connect

from . import charts, formatting
from .figures import FigureSet, Period, build_regulatory_figures

TEMPLATES_DIR = REPO_ROOT / "report_templates"
PDF_VARIANT = "pdf/a-3b"


@dataclass(frozen=True)
class RenderResult:
    path: Path
    pages: int
    sha256: str
    figures_path: Path
    csv_path: Path | None = None
    seconds: float = 0.0


@dataclass(frozen=True)
class AttachmentSpec:
    name: str
    data: bytes
    description: str


@dataclass
class BuiltReport:
    """Everything needed to write one PDF: the HTML, its figures and where the files go."""

    html: str
    figures: FigureSet
    pdf_path: Path
    figures_path: Path
    csv_path: Path | None = None
    attachments: list[AttachmentSpec] = field(default_factory=list)
    # called with (laid-out document, temp PDF path, attachments) before anything is moved into place;
    # raise to refuse the write
    verify: Callable[[object, Path, Sequence[AttachmentSpec]], None] | None = None
    build_seconds: float = 0.0


# --------------------------------------------------------------------------------------------------
# templates


def svg_data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=jinja2.select_autoescape(["html", "xml"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    formatting.register(env)
    env.filters["svg_data_uri"] = svg_data_uri
    return env


def render_html(template: str, fs: FigureSet) -> str:
    """The report's HTML: the template gets the figures, tables, charts and metadata, nothing else."""
    return environment().get_template(template).render(
        meta=fs.meta, F=fs, T=fs.tables, charts=fs.charts, definitions=fs.meta.get("definitions", []))


# --------------------------------------------------------------------------------------------------
# PDF


def _weasy_attachments(attachments: Sequence[AttachmentSpec], when: dt.datetime | None):
    from weasyprint import Attachment

    out = []
    for a in attachments:
        out.append(Attachment(file_obj=io.BytesIO(a.data), name=a.name, description=a.description,
                              relationship="Data", created=when, modified=when))
    return out


def html_to_document(html: str):
    """Lay out the HTML (WeasyPrint ``Document``); fonts and stylesheet from report_templates/."""
    from weasyprint import HTML

    return HTML(string=html, base_url=str(TEMPLATES_DIR) + os.sep).render()


def document_text(document) -> str:
    """The text WeasyPrint laid out on every page (body, running headers and footers), in order."""
    from weasyprint.formatting_structure import boxes

    parts = []
    for page in document.pages:
        for box in page._page_box.descendants():
            if isinstance(box, boxes.TextBox):
                parts.append(box.text)
    return " ".join(parts)


def _write_pdf(document, target: BinaryIO | None, attachments: Sequence[AttachmentSpec],
               when: dt.datetime | None = None):
    return document.write_pdf(target=target, pdf_variant=PDF_VARIANT,
                              attachments=_weasy_attachments(attachments, when))


def html_to_pdf(html: str, attachments: Sequence[AttachmentSpec] = ()) -> bytes:
    """The bare render: pre-built HTML → PDF/A-3b bytes (what a render benchmark times)."""
    return _write_pdf(html_to_document(html), None, attachments)


# --------------------------------------------------------------------------------------------------
# atomic write


class _Staging:
    """Temp files beside their targets; ``commit`` moves them into place, ``abort`` removes them."""

    def __init__(self) -> None:
        self.items: list[tuple[Path, Path]] = []

    def new(self, final: Path) -> tuple[Path, BinaryIO]:
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
        self.items.append((Path(tmp), final))
        return Path(tmp), os.fdopen(fd, "wb")

    def write_bytes(self, final: Path, data: bytes) -> Path:
        tmp, fh = self.new(final)
        with fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        return tmp

    def commit(self) -> None:
        dirs = set()
        for tmp, final in self.items:
            os.replace(tmp, final)
            dirs.add(final.parent)
        self.items.clear()
        for d in dirs:  # make the renames durable
            try:
                fd = os.open(d, os.O_RDONLY)
            except OSError:
                continue
            try:
                os.fsync(fd)
            except OSError:
                pass
            finally:
                os.close(fd)

    def abort(self) -> None:
        for tmp, _ in self.items:
            try:
                tmp.unlink()
            except FileNotFoundError:
                pass
        self.items.clear()


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_report(built: BuiltReport) -> RenderResult:
    """Render ``built.html`` to PDF/A-3b and write it with its figures files, atomically."""
    t0 = time.perf_counter()
    when = _generated_at(built.figures)
    staging = _Staging()
    try:
        staged = {}
        for a in built.attachments:
            final = built.figures_path if a.name == built.figures_path.name else (
                built.csv_path if built.csv_path and a.name == built.csv_path.name else None)
            if final is not None:
                staged[final] = staging.write_bytes(final, a.data)
        document = html_to_document(built.html)
        pages = len(document.pages)
        tmp_pdf, fh = staging.new(built.pdf_path)
        with fh:
            _write_pdf(document, fh, built.attachments, when)
            fh.flush()
            os.fsync(fh.fileno())
        if built.verify is not None:
            built.verify(document, tmp_pdf, built.attachments)
        digest = _sha256_file(tmp_pdf)
        staging.commit()
    except BaseException:
        staging.abort()
        raise
    return RenderResult(path=built.pdf_path, pages=pages, sha256=digest, figures_path=built.figures_path,
                        csv_path=built.csv_path, seconds=time.perf_counter() - t0 + built.build_seconds)


def _generated_at(fs: FigureSet) -> dt.datetime | None:
    iso = fs.meta.get("generated_at_iso")
    try:
        return dt.datetime.fromisoformat(iso) if iso else None
    except ValueError:
        return None


def figures_attachments(fs: FigureSet, base: str, out_folder: Path, *, csv: bool = True,
                        what: str = "report") -> tuple[list[AttachmentSpec], Path, Path | None]:
    """The figures file(s) of a report: JSON (and CSV) beside the PDF and embedded in it."""
    json_path = out_folder / f"{base}.json"
    csv_path = out_folder / f"{base}.csv" if csv else None
    fs.meta["figures_file"] = json_path.name + (f" and {csv_path.name}" if csv_path else "")
    atts = [AttachmentSpec(json_path.name, fs.to_json_bytes(),
                           f"Every figure of this {what}, keyed by metric id (JSON)")]
    if csv_path:
        atts.append(AttachmentSpec(csv_path.name, fs.to_csv_bytes(),
                                   f"Every figure of this {what}, keyed by metric id (CSV)"))
    return atts, json_path, csv_path


# --------------------------------------------------------------------------------------------------
# the regulatory report


def regulatory_charts(fs: FigureSet) -> None:
    fs.charts["utilization"] = charts.utilization_chart(fs.series.get("M1.daily", []),
                                                        fs["M1.utilization.mean"].value)
    fs.charts["leverage"] = charts.leverage_chart(fs.series.get("M2.buckets", []))
    fs.charts["latency"] = charts.latency_chart(fs.series.get("M6.liquidations", []), fs.meta.get("sla_seconds"))
    fs.charts["reserve"] = charts.reserve_chart(fs.series.get("M9.daily", []))
    fs.charts["margin_calls"] = charts.margin_calls_chart(fs.series.get("M4.daily", []))


def build_regulatory(warehouse_path: Path | str, period_start: dt.date, period_end: dt.date, out_dir: Path | str,
                     *, run_id: str, gate_results: list[dict] | None = None,
                     generated_at: dt.datetime | None = None) -> BuiltReport:
    """Marts → figures → charts → HTML for the regulatory report (no PDF yet)."""
    t0 = time.perf_counter()
    period = Period(period_start, period_end)
    with connect(warehouse_path, read_only=True) as con:
        fs = build_regulatory_figures(con, period, run_id=run_id, gate_results=gate_results,
                                      generated_at=generated_at)
    folder = Path(out_dir) / period.folder
    base = f"regulatory_report_{period.key}"
    regulatory_charts(fs)
    atts, json_path, csv_path = figures_attachments(fs, base, folder, what="report")
    html = render_html("regulatory.html", fs)
    return BuiltReport(html=html, figures=fs, pdf_path=folder / f"{base}.pdf", figures_path=json_path,
                       csv_path=csv_path, attachments=atts, build_seconds=time.perf_counter() - t0)


def render_regulatory_report(warehouse_path: Path | str, period_start: dt.date, period_end: dt.date,
                             out_dir: Path | str, *, run_id: str, gate_results: list[dict] | None = None,
                             generated_at: dt.datetime | None = None) -> RenderResult:
    """Write ``<out_dir>/<YYYY-MM>/regulatory_report_<YYYY-MM>.pdf`` (+ ``.json``, ``.csv``); a range that
    is not a calendar month is named ``regulatory_report_<start>_<end>``."""
    built = build_regulatory(warehouse_path, period_start, period_end, out_dir, run_id=run_id,
                             gate_results=gate_results, generated_at=generated_at)
    return write_report(built)


__all__ = [
    "AttachmentSpec", "BuiltReport", "RenderResult", "build_regulatory", "environment", "html_to_document",
    "html_to_pdf", "render_html", "render_regulatory_report", "write_report",
]

