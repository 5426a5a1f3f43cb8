"""Reading an insurer's email request to prefill the intake form (the agent confirms).

Only .eml (RFC 5322) files are parsed, with Python's own `email` package. Nothing here is
trusted: it proposes values for the agent to check, and the form validates them like any
other door's input. Returned values never reach a log.

A card number in the message (RULES.md, cards) is never proposed: the fields are read from the
text with every card number masked, a sender name or address holding one is left out, and the
guess says so (`card_numbers`, and a note for the agent naming only the last four digits).

The booking inbox (mailbox/) reads every fetched message with this same reader, and makes a
case of it on its own only when what it proposes passes the request form. So the labelled
details are read too (date of birth, street and city, services against the catalogue), each
only where the message labels it and only when unambiguous: Canadians write "04/12/1980" for
April and for December alike, so only ISO dates and dates with a month name are read.

Outlook .msg files are kept as the case's source but not parsed. The one maintained parser,
extract-msg, is GPL-3.0 and brings a chain of RTF/OLE dependencies; for a prefill the agent
can type in a minute, neither its licence nor that surface is worth it. Agents who want the
prefill can "Save as .eml" from Outlook (or paste the text, which is read the same way).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses
from html.parser import HTMLParser
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from medworks.accounts.models import Organisation, OrganisationKind
from medworks.core.cards import CardMatch, find_card_numbers, redact

# A Canadian postal code: no D, F, I, O, Q, U anywhere; no W or Z first.
POSTAL_CODE = re.compile(
    r"\b([ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z])[ \-]?(\d[ABCEGHJ-NPRSTV-Z]\d)\b", re.IGNORECASE
)
# "Patient: Jane Doe", "Name / Nom : Jean Tremblay", "Patient name: ..."
_NAME_LINE = re.compile(
    r"^\s*(?:patient(?:'s)?\s*(?:full\s*)?name|name\s+of\s+(?:the\s+)?patient|nom\s+du\s+patient"
    r"|patient(?:e)?|name|nom)\s*[:\-]\s*(?P<value>.+?)\s*$",
    re.IGNORECASE | re.MULTILINE,
)
# Where a name on its line stops: a wide gap, a tab, or the date of birth that follows it.
_NAME_END = re.compile(
    r"\s{2,}|\t|[,;]?\s*\b(?:DOB|D\.O\.B\.|date of birth|date de naissance|born)\b", re.I
)
_CLAIM = re.compile(
    r"\b(?:claim|case|ref(?:erence)?|file|dossier|r[ée]f[ée]rence)\s*(?:no\.?|number|num[ée]ro"
    r"|#|n[°o])?\s*[:#\-]?\s*(?P<value>(?=[A-Z\-/]*\d)[A-Z0-9][A-Z0-9\-/]{2,40})",
    re.IGNORECASE,
)
_POLICY = re.compile(
    r"\b(?:policy|police|certificate|certificat)\s*(?:no\.?|number|num[ée]ro|#|n[°o])?\s*[:#\-]?"
    r"\s*(?P<value>(?=[A-Z\-/]*\d)[A-Z0-9][A-Z0-9\-/]{2,40})",
    re.IGNORECASE,
)
# "DOB 1980-04-12", "Date of birth: 12 April 1980", "Date de naissance : 3 septembre 1975".
_DOB = re.compile(
    r"\b(?:D\.?O\.?B\.?|date\s+of\s+birth|birth\s*date|date\s+de\s+naissance"
    r"|n[ée]e?(?:\(e\))?\s+le|born(?:\s+on)?)\s*[:\-]?\s*(?P<value>[^\n]{6,40})",
    re.IGNORECASE,
)
_ADDRESS_LINE = re.compile(
    r"^\s*(?:(?:home|street|mailing|patient(?:'s)?)\s+)?(?:address|adresse)"
    r"(?:\s+(?:du|de\s+la)\s+patient(?:e)?)?\s*[:\-]\s*(?P<value>.+?)\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_CITY_LINE = re.compile(r"^\s*(?:city|ville)\s*[:\-]\s*(?P<value>.+?)\s*$", re.I | re.M)
_SERVICE_LINE = re.compile(
    r"^\s*(?:(?:requested\s+|type\s+of\s+)?services?(?:\s+(?:requested|needed|required"
    r"|demand[ée]s?))?|exam(?:ination)?s?|examens?|prestations?)\s*[:\-]\s*(?P<value>.+?)\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_MONTHS = {
    **{m: i for i, m in enumerate(
        ["january", "february", "march", "april", "may", "june", "july", "august",
         "september", "october", "november", "december"], start=1)},
    **{m: i for i, m in enumerate(
        ["janvier", "fevrier", "mars", "avril", "mai", "juin", "juillet", "aout",
         "septembre", "octobre", "novembre", "decembre"], start=1)},
}  # fmt: skip
_PROVINCE_AT_END = re.compile(
    r"[\s,]*\(?\b(?:AB|BC|MB|NB|NL|NS|NT|NU|ON|PE|QC|SK|YT|P\.?Q\.?|Ontario|Qu[ée]bec|Alberta"
    r"|British Columbia|Colombie-Britannique|Manitoba|Saskatchewan|New Brunswick"
    r"|Nouveau-Brunswick|Nova Scotia|Nouvelle-[ÉE]cosse|Prince Edward Island"
    r"|[ÎI]le-du-Prince-[ÉE]douard|Newfoundland(?: and Labrador)?|Terre-Neuve(?:-et-Labrador)?"
    r"|Yukon|Nunavut|Northwest Territories|Territoires du Nord-Ouest)\b\.?\)?\s*$",
    re.IGNORECASE,
)
MAX_PARSE_BYTES = 10 * 1024 * 1024


@dataclass
class IntakeGuess:
    """What the email suggests. Empty strings where nothing was found."""

    insurer: Organisation | None = None
    sender_domain: str = ""
    subject: str = ""
    contact_name: str = ""
    contact_email: str = ""
    patient_first_name: str = ""
    patient_last_name: str = ""
    postal_code: str = ""
    insurer_reference: str = ""
    policy_number: str = ""
    date_of_birth: str = ""  # ISO, only when written unambiguously
    address: str = ""  # the street line, without city, province and postal code
    city: str = ""
    services: list[str] = field(default_factory=list)  # catalogue ids, as form values
    body: str = ""  # the text read, card numbers masked
    notes: list[str] = field(default_factory=list)
    # Card numbers seen in the message (last four digits only): the agent is warned.
    card_numbers: list[CardMatch] = field(default_factory=list)

    def initial(self) -> dict[str, Any]:
        """The intake form's initial values (only those found)."""
        values: dict[str, Any] = {
            "insurer_contact_name": self.contact_name,
            "insurer_contact_email": self.contact_email,
            "patient_first_name": self.patient_first_name,
            "patient_last_name": self.patient_last_name,
            "patient_postal_code": self.postal_code,
            "insurer_reference": self.insurer_reference,
            "policy_number": self.policy_number,
            "patient_date_of_birth": self.date_of_birth,
            "patient_address": self.address,
            "patient_city": self.city,
            "services": list(self.services),
        }
        if self.insurer is not None:
            values["insurer"] = str(self.insurer.pk)
        return {k: v for k, v in values.items() if v}


class _TextOfHtml(HTMLParser):
    _BLOCKS = frozenset({"p", "div", "br", "tr", "li", "h1", "h2", "h3", "table", "td"})

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in {"script", "style"}:
            self._skip += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in {"script", "style"} and self._skip:
            self._skip -= 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _TextOfHtml()
    parser.feed(html)
    text = "".join(parser.parts)
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


def message_body_text(message: EmailMessage) -> str:
    """The plain-text body, or the HTML body as text when there is no plain part."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, UnicodeDecodeError):
        payload = part.get_payload(decode=True) or b""
        content = payload.decode("utf-8", errors="replace")
    if part.get_content_type() == "text/html":
        return html_to_text(content)
    return content


def insurer_for_domain(domain: str) -> Organisation | None:
    """The insurer whose people write from this domain: its users, or its past requests.

    No new field: an insurer's users and the contacts of its earlier cases already say which
    domains are its own. Only an unambiguous answer is returned.
    """
    domain = domain.lower().strip()
    if not domain:
        return None
    suffix = "@" + domain
    candidates = list(
        Organisation.objects.filter(kind=OrganisationKind.INSURER, is_active=True)
        .filter(
            Q(users__email__iendswith=suffix)
            | Q(booking_requests__insurer_contact_email__iendswith=suffix)
        )
        .distinct()[:2]
    )
    return candidates[0] if len(candidates) == 1 else None


def _split_name(full: str) -> tuple[str, str]:
    full = re.sub(r"\s+", " ", full).strip(" ,.;")
    if "," in full:  # "DOE, Jane"
        last, _comma, first = full.partition(",")
        return first.strip(), last.strip()
    first, _space, last = full.rpartition(" ")
    return (first, last) if first else ("", last)


def _card_number_note(matches: list[CardMatch]) -> str:
    """What the agent is told about the card numbers in a message (last four digits only)."""
    endings = list(dict.fromkeys(match.last4 for match in matches))
    return ngettext(
        "This message holds a card number (ending %(last4)s). It was not copied into "
        "the form: card numbers are never kept in a case. Ask the insurer to send the "
        "request again without it, and to give card details only on the secure card page.",
        "This message holds card numbers (ending %(last4)s). They were not copied into "
        "the form: card numbers are never kept in a case. Ask the insurer to send the "
        "request again without them, and to give card details only on the secure card page.",
        len(endings),
    ) % {"last4": ", ".join(endings)}


def guess_from_text(text: str, guess: IntakeGuess | None = None) -> IntakeGuess:
    """Patient name, postal code and reference numbers found in a message's text.

    The text is read with its card numbers masked, so none can be proposed for a field.
    """
    guess = guess or IntakeGuess()
    guess.card_numbers.extend(find_card_numbers(text))
    if guess.card_numbers:
        guess.notes.append(_card_number_note(guess.card_numbers))
    text = redact(text)
    guess.body = text
    if match := _NAME_LINE.search(text):
        value = re.split(
            r"\s{2,}|\t|\b(?:DOB|date of birth|né\(e\)|born)\b", match["value"], maxsplit=1
        )[0]
        first, last = _split_name(value)
        if len(first) + len(last) <= 100 and not any(ch.isdigit() for ch in first + last):
            guess.patient_first_name, guess.patient_last_name = first.title(), last.title()
    if match := POSTAL_CODE.search(text):
        guess.postal_code = f"{match[1]} {match[2]}".upper()
    if match := _CLAIM.search(text):
        guess.insurer_reference = match["value"].rstrip("-/.")
    if match := _POLICY.search(text):
        guess.policy_number = match["value"].rstrip("-/.")
    _guess_details(text, guess)
    return guess


def _date_of(value: str) -> str:
    """An ISO date from "1980-04-12", "12 April 1980", "12 avril 1980" or "April 12, 1980";
    "" for anything else (04/12/1980 is April to one writer, December to another)."""
    from medworks.network.text import fold

    value = value.strip()
    year = month = day = 0
    if match := re.match(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\b", value):
        year, month, day = int(match[1]), int(match[2]), int(match[3])
    elif match := re.match(r"(\d{1,2})(?:er)?\s+([^\W\d_]+)\.?,?\s+(\d{4})\b", value):
        day, month, year = int(match[1]), _month(fold(match[2])), int(match[3])
    elif match := re.match(r"([^\W\d_]+)\.?\s+(\d{1,2}),?\s+(\d{4})\b", value):
        month, day, year = _month(fold(match[1])), int(match[2]), int(match[3])
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return ""


def _month(name: str) -> int:
    if name in _MONTHS:
        return _MONTHS[name]
    found = {n for word, n in _MONTHS.items() if len(name) >= 3 and word.startswith(name)}
    return found.pop() if len(found) == 1 else 0


def _services_of(value: str, guess: IntakeGuess) -> list[str]:
    """Catalogue services named on a "Service:" line: by code or name, or the one catalogue
    name the words hold ("Wrist X-ray" is an X-ray). Names not found are left to the agent."""
    from medworks.core.errors import DomainError
    from medworks.network.models import Service
    from medworks.network.selectors import service_resolve
    from medworks.network.text import fold

    try:  # the whole line may be one name ("Drug and alcohol test")
        return [str(service_resolve(name_or_code=value.strip(" .")).pk)]
    except DomainError:
        pass
    catalogue = [
        (s.pk, {fold(s.code), fold(s.name_en), fold(s.name_fr)} - {""})
        for s in Service.objects.filter(is_active=True)
    ]
    found: list[str] = []
    items = re.split(r"\s*(?:[,;/+&]|\band\b|\bet\b)\s*", value)
    for item in (i.strip(" .") for i in items):
        if not item:
            continue
        try:
            service = service_resolve(name_or_code=item)
        except DomainError:
            words = f" {fold(item)} "
            matches = {}
            for pk, names in catalogue:
                held = [len(n) for n in names if f" {n} " in words]
                if held:
                    matches[pk] = max(held)
            if not matches:
                continue
            best = max(matches.values())
            picked = [pk for pk, length in matches.items() if length == best]
            if len(picked) != 1:
                continue
            pk = picked[0]
        else:
            pk = service.pk
        if str(pk) not in found:
            found.append(str(pk))
    if not found:
        guess.notes.append(
            _("No catalogue service was recognised in “%(service)s”: choose the services.")
            % {"service": value[:80]}
        )
    return found


def _guess_details(text: str, guess: IntakeGuess) -> None:
    """Date of birth, street address and city, and services, where the message labels them."""
    if match := _DOB.search(text):
        guess.date_of_birth = _date_of(match["value"])
    if match := _ADDRESS_LINE.search(text):
        parts = [p.strip(" .") for p in POSTAL_CODE.sub(" ", match["value"]).split(",")]
        parts = [p for p in parts if p]
        if parts and any(ch.isdigit() for ch in parts[0]) and len(parts[0]) <= 255:
            guess.address = re.sub(r"\s+", " ", parts[0])
            if len(parts) > 1:
                city = _PROVINCE_AT_END.sub("", re.sub(r"\s*\([^)]*\)", "", parts[1]))
                guess.city = re.sub(r"\s+", " ", city).strip(" ,.")[:100]
    if match := _CITY_LINE.search(text):
        guess.city = _PROVINCE_AT_END.sub("", match["value"]).strip(" ,.")[:100]
    if match := _SERVICE_LINE.search(text):
        guess.services = _services_of(match["value"], guess)


def guess_from_eml(raw: bytes) -> IntakeGuess:
    """Everything an .eml suggests: sender, insurer by domain, and the body's fields."""
    guess = IntakeGuess()
    if len(raw) > MAX_PARSE_BYTES:
        guess.notes.append(_("The message is too large to read; fill the form by hand."))
        return guess
    message = BytesParser(policy=policy.default).parsebytes(raw)
    subject = str(message.get("Subject", "") or "")
    guess.subject = redact(subject)
    # Reply-To is where the insurer wants answers; From when there is none.
    senders = getaddresses([str(message.get("Reply-To") or message.get("From") or "")])
    name, address = senders[0] if senders else ("", "")
    # A sender name or address holding a card number is not proposed (noted with the body's).
    name_cards, address_cards = find_card_numbers(name), find_card_numbers(address)
    guess.card_numbers.extend(name_cards + address_cards)
    name = "" if name_cards else name
    address = "" if address_cards else address
    if "@" in address:
        guess.contact_email = address.strip().lower()
        guess.contact_name = name.strip().strip('"')
        guess.sender_domain = guess.contact_email.rsplit("@", 1)[1]
        guess.insurer = insurer_for_domain(guess.sender_domain)
        if guess.insurer is None:
            guess.notes.append(
                _("No insurance partner is known to write from %(domain)s: choose the insurer.")
                % {"domain": guess.sender_domain}
            )
    text = message_body_text(message)
    guess_from_text(f"{subject}\n{text}", guess)
    return guess
