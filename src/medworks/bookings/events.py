"""The case timeline's event kinds (BookingEvent.kind), each with its staff and insurer words.

One place for the labels: the staff case page, the insurer's portal and the API read them from
here. A kind with no insurer label is never shown to the insurer. What stays hidden from the
insurer, and why: MedWorks' internal steps are told without their notes (an escalation or
clinic-choice note is written by staff for staff: it may name clinics that refused, or prices);
who on the team owns the case is none of the insurer's business ("assigned"). Notes are shown
where they are written for the insurer or by it: its own decline, a cancellation reason, why an
appointment is rescheduled or missed.

The documents app declares its own kinds (GOP, paperwork) into CASE_EVENTS from its
AppConfig.ready(): see documents/events.py.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from medworks.core.events import EventCatalogue, EventKind, by_payload

CASE_EVENTS = EventCatalogue("case")

_CANCELLED_BY = {
    "insurer": _("Cancelled (asked by the insurer)"),
    "clinic": _("Cancelled (asked by the clinic)"),
    "patient": _("Cancelled (asked by the patient)"),
    "medworks": _("Cancelled (asked by MedWorks)"),
}

CASE_EVENTS.declare(
    [
        EventKind("created", _("Request received"), _("Request received")),
        EventKind("assigned", _("Owner changed")),
        EventKind("escalation_assigned", _("Escalation owner changed")),
        EventKind(
            "start_sourcing",
            _("Taken; sourcing started"),
            _("MedWorks started looking for a clinic"),
        ),
        EventKind(
            "escalate",
            _("Escalate to management"),
            _("No network clinic nearby: MedWorks is finding a provider"),
        ),
        EventKind(
            "select_clinic", _("Ask the clinic for dates"), _("A clinic was asked for dates")
        ),
        EventKind(
            "offer_dates", _("Offer dates to the insurer"), _("Dates offered for your approval")
        ),
        EventKind("approve_date", _("Approve a date"), _("Date approved: appointment booked")),
        EventKind(
            "decline_dates", _("Decline all dates"), _("Dates declined"), insurer_sees_note=True
        ),
        EventKind(
            "results_direct_to_patient",
            _("Results go directly to the patient"),
            _("Results will go directly to the patient"),
        ),
        EventKind("complete", _("Mark completed"), _("Appointment completed")),
        EventKind(
            "no_show",
            _("Mark no-show"),
            _("The patient did not attend"),
            insurer_sees_note=True,
        ),
        EventKind(
            "reschedule",
            _("Reschedule"),
            _("Appointment to be rescheduled"),
            insurer_sees_note=True,
        ),
        EventKind("mark_ready_for_billing", _("Ready for billing"), _("Paperwork complete")),
        EventKind("close", _("Close"), _("Closed")),
        EventKind(
            "cancel",
            _("Cancel"),
            by_payload("cancelled_by", _CANCELLED_BY, default=_("Cancelled")),
            insurer_sees_note=True,
        ),
        EventKind("reminder_queued", _("Day-before reminders queued")),
        # The clinic's side (workflow.py). A clinic that cannot offer dates: the insurer hears
        # that MedWorks looks for another clinic, not the clinic's reason (it may be about
        # prices or the clinic's own staff). A clinic's request about a booked appointment is
        # for the booking team: the insurer hears of it when staff reschedule or cancel.
        EventKind(
            "clinic_decline",
            _("The clinic cannot offer dates"),
            _("MedWorks is finding another clinic"),
        ),
        EventKind("clinic_reschedule_request", _("The clinic asks to reschedule")),
        EventKind("clinic_cannot_take_place", _("The clinic says it cannot take place")),
        EventKind("clinic_reminded", _("Clinic reminded: no dates yet")),
        # The request's original message held a card number, kept masked (bookings/source.py).
        EventKind("source_card_masked", _("Card number masked in the original message")),
    ]
)
