"""Signing in with a password (slowed down, then locked, after failures) and signing out."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from app.auth.audit import Actor, record
from app.auth.lockout import (
    FailureHistory,
    Gate,
    GateState,
    LoginRules,
    account_gate,
    address_gate,
    after_failure,
)
from app.auth.passwords import hash_password, needs_rehash, verify_password
from app.auth.policy import User
from app.auth.principal import Principal, user_from_row
from app.auth.sessions import NewSession, open_session
from app.db import Conn
from app.errors import ProblemError
from app.repo import login_attempts
from app.repo import sessions as sessions_repo
from app.repo import users as users_repo
from app.settings import Settings

PARIS = ZoneInfo("Europe/Paris")


@dataclass(frozen=True)
class LoginResult:
    user: User
    session: NewSession


def normalise_email(email: str) -> str:
    return email.strip().lower()


def paris_time(moment: datetime, now: datetime) -> str:
    """« 14 h 35 », or « le 03/02 à 14 h 35 » on another day, in Paris time."""
    local, today = moment.astimezone(PARIS), now.astimezone(PARIS)
    clock = f"{local:%H} h {local:%M}"
    return clock if local.date() == today.date() else f"le {local:%d/%m} à {clock}"


def _wait_phrase(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} seconde{'s' if seconds > 1 else ''}"
    return f"{(seconds + 59) // 60} minutes"


def account_locked(gate: Gate, now: datetime, rules: LoginRules) -> ProblemError:
    assert gate.until is not None
    return ProblemError(
        423, "account_locked",
        f"Compte verrouillé après {rules.lockout_after} tentatives de connexion infructueuses, "
        f"jusqu'à {paris_time(gate.until, now)} (heure de Paris). Réessayez ensuite, ou "
        f"demandez à un administrateur de le déverrouiller.",
        title="Compte verrouillé",
        errors=[{"locked_until": gate.until.isoformat()}],
        headers={"Retry-After": str(gate.seconds_left(now))},
    )


def login_throttled(gate: Gate, now: datetime, *, from_address: bool) -> ProblemError:
    seconds = gate.seconds_left(now)
    origin = " depuis votre adresse" if from_address else ""
    return ProblemError(
        429, "login_throttled",
        f"Trop de tentatives de connexion{origin} : patientez {_wait_phrase(seconds)} avant "
        f"de réessayer.",
        title="Trop de tentatives",
        headers={"Retry-After": str(seconds)},
    )


def invalid_credentials(gate: Gate, now: datetime) -> ProblemError:
    detail = "Adresse électronique ou mot de passe incorrect."
    headers = {}
    if gate.state is GateState.WAIT:
        seconds = gate.seconds_left(now)
        detail += f" Par sécurité, patientez {_wait_phrase(seconds)} avant de réessayer."
        headers["Retry-After"] = str(seconds)
    return ProblemError(401, "invalid_credentials", detail, headers=headers)


def log_in(conn: Conn, *, email: str, password: str, ip: str | None, user_agent: str | None,
           settings: Settings) -> LoginResult:
    """Check a password and open a session; the attempt is journaled even when refused."""
    rules = LoginRules.from_settings(settings)
    with conn.transaction():
        outcome = _attempt(conn, normalise_email(email), password, ip, user_agent, settings,
                           rules)
    conn.commit()  # the journal of attempts must survive the refusal raised below
    if isinstance(outcome, ProblemError):
        raise outcome
    return outcome


def _attempt(conn: Conn, email: str, password: str, ip: str | None, user_agent: str | None,
             settings: Settings, rules: LoginRules) -> LoginResult | ProblemError:
    now = datetime.now(UTC)
    login_attempts.lock_email(conn, email)
    if ip is not None:
        nth = login_attempts.nth_latest_address_failure(
            conn, ip, now - timedelta(seconds=rules.window_s), rules.ip_max_failures)
        gate = address_gate(nth, now, rules)
        if gate.state is not GateState.OPEN:
            return login_throttled(gate, now, from_address=True)
    memory = timedelta(seconds=max(rules.window_s, rules.lockout_s))
    history = login_attempts.account_history(conn, email, now - memory)
    gate = account_gate(history, now, rules)
    if gate.state is GateState.LOCKED:
        return account_locked(gate, now, rules)
    if gate.state is GateState.WAIT:
        return login_throttled(gate, now, from_address=False)

    account = users_repo.password_hash(conn, email)
    user_id = None if account is None else int(account["id"])
    if not verify_password(None if account is None else account["password_hash"], password):
        login_attempts.record(conn, email=email, user_id=user_id, ip=ip, outcome="failure")
        return _refusal(conn, email, user_id, history, now, rules,
                        Actor(None, None, "anonymous", ip, user_agent))
    assert account is not None and user_id is not None
    if account["disabled"]:
        return ProblemError(403, "account_disabled",
                            "Ce compte est désactivé ; adressez-vous à un administrateur.")

    login_attempts.record(conn, email=email, user_id=user_id, ip=ip, outcome="success")
    if needs_rehash(account["password_hash"]):
        users_repo.set_password_hash(conn, user_id, hash_password(password))
    users_repo.record_login(conn, user_id)
    sessions_repo.delete_stale(conn, now - timedelta(seconds=settings.session_idle_timeout_s))
    session = open_session(conn, user_id, ip=ip, user_agent=user_agent, settings=settings)
    row = users_repo.by_id(conn, user_id)
    assert row is not None
    user = user_from_row(row)
    record(conn, Actor(user.id, user.email, "session", ip, user_agent), action="session.login",
           entity="user", entity_id=user.id, summary=f"Connexion de {user.email}.",
           regions=user.regions)
    return LoginResult(user, session)


def _refusal(conn: Conn, email: str, user_id: int | None, history: FailureHistory,
             now: datetime, rules: LoginRules, actor: Actor) -> ProblemError:
    gate = after_failure(history, now, rules)
    if gate.state is not GateState.LOCKED:
        return invalid_credentials(gate, now)
    if user_id is not None:
        assert gate.until is not None
        row = users_repo.by_id(conn, user_id)
        # a locked account keeps no open session: whoever guessed the password is out too
        closed = sessions_repo.delete_for_user(conn, user_id)
        record(conn, actor, action="user.lock", entity="user", entity_id=user_id,
               summary=f"Compte {email} verrouillé jusqu'à {paris_time(gate.until, now)} "
                       f"après {history.count + 1} échecs de connexion"
                       + (f" ; {closed} session(s) ouverte(s) fermée(s)." if closed else "."),
               changes={"locked_until": {"before": None, "after": gate.until.isoformat()}},
               regions=[] if row is None else row["regions"])
    return account_locked(gate, now, rules)


def log_out(conn: Conn, principal: Principal, actor: Actor) -> None:
    if principal.session_id is None:
        raise ProblemError(400, "not_a_session",
                           "Seule une session de navigateur se ferme ainsi ; un jeton d'accès "
                           "se révoque par DELETE /api/tokens/{id}.")
    sessions_repo.delete(conn, principal.session_id)
    record(conn, actor, action="session.logout", entity="user", entity_id=principal.user.id,
           summary=f"Déconnexion de {principal.user.email}.", regions=principal.user.regions)
