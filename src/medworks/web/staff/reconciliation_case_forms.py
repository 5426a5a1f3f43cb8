"""The forms of the coordinator's reconciliation pages and finance's months (SOP case 4 step 6).

Each is a note. Whether a note is needed to reconcile is the use case's decision (a discrepancy
needs one: `reconciliation_reconcile` refuses with `note_required` and the field's error, which
the view puts back on this form); a reopening always needs its reason, so those fields are
required here too and say so before anything is sent.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

NOTE_MAX = 2000


def _note(label, *, required: bool, help_text=""):
    return forms.CharField(
        label=label,
        required=required,
        max_length=NOTE_MAX,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ReconcileForm(forms.Form):
    note = _note(
        _("Note"),
        required=False,
        help_text=_("Needed when a check is in discrepancy: say why you accept it."),
    )


class ReconciliationReopenForm(forms.Form):
    note = _note(_("Why it is reopened"), required=True)


class MonthCloseForm(forms.Form):
    note = _note(_("Note (optional)"), required=False)


class MonthReopenForm(forms.Form):
    note = _note(_("Why the month is reopened"), required=True)
