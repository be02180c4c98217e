"""Use cases that combine access rules, domain functions, SQL and the audit log."""
