"""ICS calendar files for appointments (RFC 5545). Filled in by the notifications work."""


def ics_for_appointment(*, appointment, case) -> str:
    raise NotImplementedError
