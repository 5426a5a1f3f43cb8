"""Reading an insurer's email request to prefill the intake form (the agent confirms).

Only .eml (RFC 5322) files are parsed, with Python's own `email` package. Nothing here is
trusted: it proposes values for the agent to check, and the form validates them like any
other door's input. Returned values never reach a log.

A card number in the message (RULES.md, cards) is never proposed: the fields are read from the
text with every card number masked, a sender name or address holding one is left out, and the
guess says so (`card_numbers`, and a note for the agent naming only the last four digits).

Outlook .msg files are kept as the case's source but not parsed. The one maintained parser,
extract-msg, is GPL-3.0 and brings a chain of RTF/OLE dependencies; for a prefill the agent
can type in a minute, neither its licence nor that surface is worth it. Agents who want the
prefill can "Save as .eml" from Outlook (or paste the text, which is read the same way).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses
from html.parser import HTMLParser

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
    body: str = ""  # the text read, card numbers masked
    notes: list[str] = field(default_factory=list)
    # Card numbers seen in the message (last four digits only): the agent is warned.
    card_numbers: list[CardMatch] = field(default_factory=list)

    def initial(self) -> dict[str, str]:
        """The intake form's initial values (only those found)."""
        values = {
            "insurer_contact_name": self.contact_name,
            "insurer_contact_email": self.contact_email,
            "patient_first_name": self.patient_first_name,
            "patient_last_name": self.patient_last_name,
            "patient_postal_code": self.postal_code,
            "insurer_reference": self.insurer_reference,
            "policy_number": self.policy_number,
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
    return guess


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
