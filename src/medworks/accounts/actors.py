"""The Actor for a principal the faces hold: a signed-in User, or an API key's client."""

from __future__ import annotations

from medworks.core.actor import Actor

from .models import User
from .services import ApiClient


def actor_for(principal: User | ApiClient) -> Actor:
    """The actor a page's user or an API request's `request.auth` stands for."""
    if isinstance(principal, ApiClient):
        return Actor.for_api_client(principal)
    if isinstance(principal, User):
        return Actor.for_user(principal)
    raise TypeError(f"not a principal: {type(principal).__name__}")
