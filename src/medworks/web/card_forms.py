"""The secure card form, the same in the insurer's portal and for staff on the phone: the
number and the security code are never rendered back into a page (a form shown again with an
error comes back with them empty), never autocompleted into another field, and the page is
never cached."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from medworks.core.cards import contains_card_number


class SecretInput(forms.TextInput):
    """A text box that never puts its value back into the page."""

    def format_value(self, value):
        return None


class CardFreeInput(forms.TextInput):
    """A text box whose value goes back into the page to be corrected, unless it holds a card
    number (refused there: the page never says it back)."""

    def format_value(self, value):
        value = super().format_value(value)
        return None if value and contains_card_number(str(value)) else value


class CardForm(forms.Form):
    number = forms.CharField(
        label=_("Card number"),
        max_length=40,
        widget=SecretInput(
            attrs={"autocomplete": "cc-number", "inputmode": "numeric", "spellcheck": "false"}
        ),
    )
    name_on_card = forms.CharField(
        label=_("Name on card"),
        max_length=40,
        widget=CardFreeInput(attrs={"autocomplete": "cc-name"}),
    )
    expiry_month = forms.CharField(
        label=_("Expiry month (MM)"),
        max_length=2,
        widget=forms.TextInput(
            attrs={"autocomplete": "cc-exp-month", "inputmode": "numeric", "size": 3}
        ),
    )
    expiry_year = forms.CharField(
        label=_("Expiry year (YYYY)"),
        max_length=4,
        widget=forms.TextInput(
            attrs={"autocomplete": "cc-exp-year", "inputmode": "numeric", "size": 5}
        ),
    )
    security_code = forms.CharField(
        label=_("Security code"),
        max_length=4,
        help_text=_("The 3 digits on the back (4 on the front of an American Express card)."),
        widget=SecretInput(attrs={"autocomplete": "cc-csc", "inputmode": "numeric", "size": 5}),
    )

    def put_errors(self, exc) -> None:
        """The vault's refusal, per field (the expiry's on both of its boxes' first)."""
        fields = dict(exc.fields or {})
        if "expiry" in fields:
            fields["expiry_month"] = fields.pop("expiry")
        placed = False
        for field, messages in fields.items():
            for message in messages:
                self.add_error(field if field in self.fields else None, message)
                placed = True
        if not placed:
            self.add_error(None, exc.message)


class RevealForm(forms.Form):
    reason = forms.CharField(
        label=_("Why the card is shown"),
        max_length=200,
        widget=CardFreeInput,
        help_text=_("For example: the payment call with the clinic. Every showing is recorded."),
    )


def no_store(response):
    """A page that held card data: never kept by the browser or a proxy."""
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response
