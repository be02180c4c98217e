"""Shared fixtures for tests that need users: accounts of each role, clients signed in as them.

- `make_account(role, regions=…, cpts_ids=…)` creates a user with a password and an API token;
- `auth_client`: a client acting as an administrator (API token), for tests of features;
- `client_as(account, via="token"|"session")`: a fresh client (own cookies) acting as a user;
  with a session, it sends the session's CSRF token on every request, as the front end does.
Clients share the session app of the `client` fixture (its pool), each with its own cookies.
"""

import itertools
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

import pytest
from fastapi.testclient import TestClient

from app.auth import api_tokens
from app.auth.audit import Actor
from app.auth.policy import Role, User
from app.auth.users import create_user
from app.db import connect

RUN = uuid.uuid4().hex[:8]  # the test database is kept between runs: e-mails must be new
_serial = itertools.count(1)


@dataclass(frozen=True)
class Account:
    user: User
    email: str
    password: str
    token: str

    @property
    def id(self) -> int:
        return self.user.id


MakeAccount = Callable[..., Account]
ClientAs = Callable[..., TestClient]


def new_email(label: str) -> str:
    return f"{label}-{next(_serial)}-{RUN}@test.cpts.fr"


@pytest.fixture(scope="session")
def make_account(database: str) -> MakeAccount:
    def make(role: str, *, regions: Iterable[str] = (), cpts_ids: Iterable[int] = (),
             label: str | None = None) -> Account:
        email = new_email(label or role)
        password = f"Mdp-{uuid.uuid4().hex}"
        with connect(database) as conn, conn.transaction():
            user = create_user(conn, email=email, role=Role(role), regions=regions,
                               cpts_ids=cpts_ids, password=password,
                               actor=Actor.command_line())
            issued = api_tokens.issue(conn, user, name="tests", expires_in_days=None,
                                      actor=Actor.command_line())
        return Account(user, email, password, issued.token)

    return make


def sign_in(test_client: TestClient, email: str, password: str) -> TestClient:
    """Log in through the API as a browser does; later requests carry the CSRF token."""
    pre_login = test_client.get("/api/auth/csrf").json()["csrf_token"]
    response = test_client.post("/api/auth/login", json={"email": email, "password": password},
                                headers={"X-CSRF-Token": pre_login})
    assert response.status_code == 200, response.text
    test_client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return test_client


@pytest.fixture(scope="session")
def client_as(client: TestClient) -> ClientAs:
    def make(account: Account | None = None,
             via: Literal["token", "session", "anonymous"] = "token") -> TestClient:
        # Not entered as a context manager: the app's lifespan (the pool) is the session
        # client's, and entering would open and then close another one.
        fresh = TestClient(client.app)
        if account is None or via == "anonymous":
            return fresh
        if via == "token":
            fresh.headers["Authorization"] = f"Bearer {account.token}"
            return fresh
        return sign_in(fresh, account.email, account.password)

    return make


@pytest.fixture(scope="session")
def admin_account(make_account: MakeAccount) -> Account:
    return make_account("admin")


@pytest.fixture(scope="session")
def auth_client(client_as: ClientAs, admin_account: Account) -> TestClient:
    """An administrator's client (API token): for tests of features rather than of access."""
    return client_as(admin_account)
