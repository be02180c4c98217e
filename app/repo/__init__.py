"""SQL access, one module per concern; functions take a connection and return plain values."""
