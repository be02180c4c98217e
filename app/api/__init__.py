"""Thin HTTP routers: parse the request, call a domain or repository function, shape the answer."""
