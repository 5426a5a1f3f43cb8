"""The session engine (SESSION_ENGINE) and the limits a signed-in session lives within.

Sessions are Django's database sessions, stored as `UserSession` rows that also name the user
signed in with them, so deactivating a user or an organisation deletes their sessions in one
indexed query. The store also writes the sign-in time into the session the first time it saves
it with a user in it: every way of signing in ends in that save (the login page, the admin's,
the test client's `force_login`), so the stamp costs no query of its own.

`session_limits_check` is what `accounts.middleware.SessionLimitsMiddleware` asks on every
request of a signed-in user: the session ends after MEDWORKS_SESSION_IDLE_MINUTES without a
request, MEDWORKS_SESSION_MAX_HOURS after sign-in whatever the activity, and at once when the
user or their organisation is no longer active.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.utils import timezone
from django.utils.translation import gettext_lazy, ngettext

from .models import User, UserSession

# Seconds since the epoch (UTC), in the session data.
SIGNED_IN_AT = "medworks_signed_in_at"
SEEN_AT = "medworks_seen_at"
# The last-request time is written at most this often (a session write per request would put a
# write in the path of every page); never coarser than a quarter of the idle limit.
SEEN_RESOLUTION = dt.timedelta(minutes=1)

USER_DEACTIVATED = gettext_lazy(
    "This account has been deactivated. Ask MedWorks if you need access again."
)
ORGANISATION_SUSPENDED = gettext_lazy(
    "Your organisation's access to the MedWorks desk is suspended. "
    "Ask your MedWorks contact to restore it."
)


def _user_id(data: dict) -> int | None:
    try:
        return int(data[SESSION_KEY])
    except (KeyError, TypeError, ValueError):
        return None


def _stamp_sign_in(data: dict) -> int | None:
    """The user of the session data, stamping when they signed in if it is not yet stamped.

    `login()` empties the session when another user signs in, so a stamp always belongs to the
    user now in the session."""
    user_id = _user_id(data)
    if user_id is not None and SIGNED_IN_AT not in data:
        data[SIGNED_IN_AT] = int(timezone.now().timestamp())
    return user_id


class SessionStore(DatabaseSessionStore):
    @classmethod
    def get_model_class(cls):
        return UserSession

    def create_model_instance(self, data):
        user_id = _stamp_sign_in(data)
        session = super().create_model_instance(data)
        session.user_id = user_id
        return session

    async def acreate_model_instance(self, data):
        user_id = _stamp_sign_in(data)
        session = await super().acreate_model_instance(data)
        session.user_id = user_id
        return session


def user_may_sign_in(user: User) -> bool:
    """An active user of an active organisation (staff made with `createsuperuser` may have no
    organisation). The login form and the session check ask the same."""
    if not user.is_active:
        return False
    return user.organisation_id is None or user.organisation.is_active


def session_limits_check(*, session, user: User, now: dt.datetime) -> str | None:
    """Why this signed-in session must end now (a message for the login page), or None.

    When the session may go on, its last-request time is refreshed (at most once a
    SEEN_RESOLUTION). A session without a sign-in stamp (made before this engine, or by another
    engine) is stamped now rather than ended."""
    if not user.is_active:
        return str(USER_DEACTIVATED)
    if not user_may_sign_in(user):
        return str(ORGANISATION_SUSPENDED)
    moment = int(now.timestamp())
    signed_in_at = session.get(SIGNED_IN_AT)
    if not isinstance(signed_in_at, int):
        session[SIGNED_IN_AT] = signed_in_at = moment
    seen_at = session.get(SEEN_AT, signed_in_at)
    if not isinstance(seen_at, int):
        seen_at = signed_in_at

    idle = dt.timedelta(minutes=settings.MEDWORKS_SESSION_IDLE_MINUTES)
    lifetime = dt.timedelta(hours=settings.MEDWORKS_SESSION_MAX_HOURS)
    if moment - signed_in_at >= lifetime.total_seconds():
        hours = settings.MEDWORKS_SESSION_MAX_HOURS
        return ngettext(
            "You were signed out: a session lasts at most %(hours)d hour. Please sign in again.",
            "You were signed out: a session lasts at most %(hours)d hours. Please sign in again.",
            hours,
        ) % {"hours": hours}
    if moment - seen_at >= idle.total_seconds():
        minutes = settings.MEDWORKS_SESSION_IDLE_MINUTES
        return ngettext(
            "You were signed out after %(minutes)d minute without activity. Please sign in again.",
            "You were signed out after %(minutes)d minutes without activity. Please sign in again.",
            minutes,
        ) % {"minutes": minutes}
    if moment - seen_at >= min(SEEN_RESOLUTION, idle / 4).total_seconds():
        session[SEEN_AT] = moment
    return None
