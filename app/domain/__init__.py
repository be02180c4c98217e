"""Plain domain functions: no HTTP, no SQL."""
