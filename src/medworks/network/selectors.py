"""Reads of the directory that pages, the API and commands share."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from medworks.core.errors import DomainError

from .models import Service
from .text import fold, name_key


def service_list(*, active_only: bool = True) -> QuerySet[Service]:
    qs = Service.objects.all()
    if active_only:
        qs = qs.filter(is_active=True)
    return qs.order_by("name_en")


def service_resolve(*, name_or_code: str) -> Service:
    """A service by code (case-insensitive) or by English or French name (accents ignored)."""
    text = (name_or_code or "").strip()
    if not text:
        raise DomainError("service_missing", "Name a service, by code or by name.")
    found = Service.objects.filter(Q(code__iexact=text) | Q(name_key=name_key(text))).first()
    if found is None:
        key = fold(text)
        for service in Service.objects.filter(is_active=True):
            if fold(service.name_fr) == key:
                return service
        raise DomainError(
            "service_unknown",
            f"Unknown service {text!r}: give a catalogue code or name.",
        )
    return found
