"""Browser tests of the Dagster UI (Playwright driving Debian's Chromium against `dagster dev`)."""
