"""The sign-in form: Django's, refusing a user whose organisation is suspended."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from .sessions import ORGANISATION_SUSPENDED, user_may_sign_in


class LoginForm(AuthenticationForm):
    """A deactivated user is refused by the backend with Django's usual "not correct" message
    (it says nothing of the account); a user of a suspended organisation, once the password is
    right, is told so (the organisation's users are not deactivated one by one, so that
    reactivating it lets them in again)."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "organisation_inactive": ORGANISATION_SUSPENDED,
    }

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not user_may_sign_in(user):
            raise forms.ValidationError(
                self.error_messages["organisation_inactive"], code="organisation_inactive"
            )
