"""What the forms of every audience share: domain refusals put on a form, the price field,
the reason note.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from medworks.bookings.forms import forget_values
from medworks.core.cards import CARD_NUMBER_CODE
from medworks.core.errors import DomainError
from medworks.network.text import parse_price


def add_domain_errors(form: forms.Form, error: DomainError) -> None:
    """Show a service's refusal on the form: per field where it names one, else at the top.
    A field refused for holding a card number is shown again empty (the page never holds it)."""
    placed = False
    for field, messages in error.fields.items():
        for message in messages:
            form.add_error(field if field in form.fields else None, message)
            placed = True
    if not placed:
        form.add_error(None, error.message)
    if error.code == CARD_NUMBER_CODE:
        forget_values(form, error.fields)


class PriceField(forms.CharField):
    """Accepts what people type: 125, 125.00, $1,250.00, 1 250,00 $. Blank means no price."""

    def clean(self, value) -> Decimal | None:
        text = super().clean(value)
        try:
            return parse_price(text)
        except ValueError as exc:
            message = str(exc)
            raise forms.ValidationError(message[:1].upper() + message[1:] + ".") from None


class NoteForm(forms.Form):
    """A reason: declining dates, cancelling. Required: the other side needs to know why."""

    note = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "required": True}),
    )
