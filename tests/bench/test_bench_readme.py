"""The harness puts its table into the README between the bench markers, and nowhere else."""
from __future__ import annotations

from pathlib import Path

from bench.cli import README_END, README_START, update_readme

TABLE = "# Benchmark results X\n\n- machine: two cores\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n## Targets\n\n| t | v |\n"


def test_table_replaces_the_marked_block_only(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# Project\n\n## Performance\n\n{README_START}\nold table\n{README_END}\n\n## Next\nkept\n")
    assert update_readme(readme, TABLE, tmp_path / "bench" / "results" / "run.md")
    text = readme.read_text()
    assert "old table" not in text and "| 1 | 2 |" in text
    assert "### Targets" in text and "# Benchmark results X" not in text  # headings sit under the section
    assert "`bench/results/run.md`" in text
    assert text.startswith("# Project\n\n## Performance\n\n") and text.endswith("## Next\nkept\n")
    assert update_readme(readme, TABLE.replace("| 1 | 2 |", "| 3 | 4 |"), tmp_path / "r.md")
    assert "| 3 | 4 |" in readme.read_text() and "| 1 | 2 |" not in readme.read_text()


def test_no_markers_no_change(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# Project\n")
    assert not update_readme(readme, TABLE, tmp_path / "r.md")
    assert readme.read_text() == "# Project\n"
