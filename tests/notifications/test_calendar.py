"""ICS files: valid RFC 5545 that calendar apps read, stable per appointment, no health details."""

import datetime as dt

import icalendar

from medworks.notifications.calendar import escape_text, fold, ics_for_appointment


def test_the_ics_file_parses_and_holds_one_event_at_the_appointment_time_in_utc(booked):
    case, appointment = booked
    text = ics_for_appointment(appointment=appointment, case=case)
    calendar = icalendar.Calendar.from_ical(text)
    (event,) = calendar.walk("VEVENT")
    assert calendar["VERSION"] == "2.0" and calendar["PRODID"]
    assert str(event["UID"]) == f"appointment-{appointment.pk}@medworks"
    assert event.decoded("DTSTART") == appointment.starts_at
    assert event.decoded("DTSTART").utcoffset() == dt.timedelta(0)
    assert "DTSTART:" + appointment.starts_at.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ") in text
    assert event.decoded("DTEND") - event.decoded("DTSTART") == dt.timedelta(minutes=30)
    assert str(event["SUMMARY"]) == f"X-ray ({case.order_id})"
    assert str(event["LOCATION"]) == (
        "Harbour Clinic King West, 500 King Street West, Toronto ON M5V 3L9"
    )
    assert event.decoded("DTSTAMP").utcoffset() == dt.timedelta(0)


def test_the_uid_is_the_same_every_time_so_a_second_copy_updates_the_same_event(booked):
    case, appointment = booked
    first = icalendar.Calendar.from_ical(ics_for_appointment(appointment=appointment, case=case))
    again = icalendar.Calendar.from_ical(ics_for_appointment(appointment=appointment, case=case))
    assert first.walk("VEVENT")[0]["UID"] == again.walk("VEVENT")[0]["UID"]


def test_the_ics_file_carries_no_patient_name_or_health_details(booked):
    case, appointment = booked
    text = ics_for_appointment(appointment=appointment, case=case)
    unfolded = text.replace("\r\n ", "")
    for private in ("Jean", "Tremblay", "wrist", "1980", "416-555-0199", "patient@example.com"):
        assert private not in unfolded
    assert case.order_id in unfolded


def test_lines_end_in_crlf_and_are_folded_at_75_octets(booked):
    case, appointment = booked
    location = appointment.location
    location.name = "Clinique médicale de l'Île-des-Sœurs, pavillon Émile-Nelligan " * 2
    location.save(update_fields=["name"])
    text = ics_for_appointment(appointment=appointment, case=case)
    assert text.endswith("END:VCALENDAR\r\n")
    assert "\n" not in text.replace("\r\n", "")
    lines = text.split("\r\n")[:-1]
    assert all(len(line.encode()) <= 75 for line in lines)
    assert any(line.startswith(" ") for line in lines)  # the long LOCATION was folded
    (event,) = icalendar.Calendar.from_ical(text).walk("VEVENT")
    assert str(event["LOCATION"]).startswith(location.name)


def test_folding_never_cuts_a_multibyte_character_in_two():
    line = "LOCATION:" + "é" * 100
    folded = fold(line)
    for part in folded.split("\r\n"):
        part.encode().decode()  # would raise on half a character
        assert len(part.encode()) <= 75
    assert folded.replace("\r\n ", "") == line


def test_text_values_escape_backslash_semicolon_comma_and_newlines():
    assert escape_text("a\\b;c,d\ne\r\nf") == "a\\\\b\\;c\\,d\\ne\\nf"
