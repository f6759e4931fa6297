"""Great Expectations suites of the raw feeds and their chunked runner (SPEC §5). GX is imported lazily."""
