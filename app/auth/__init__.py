"""Accounts and access: passwords, sessions, API tokens, CSRF, the access policy, the audit log."""
