"""Reading the values people type into spreadsheets and forms: names, provinces, yes/no, prices.

Each reader accepts what real spreadsheets hold (accents, stray spaces, French, "$1,250.00")
and raises ValueError with a message a person can act on.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from medworks.core.cards import redact
from medworks.core.money import to_money

from .models import Province


def _shown(raw: object) -> str:
    """A value quoted in a refusal, a card number in it masked: a message may be shown,
    logged or put in an import report (RULES.md, cards)."""
    return repr(redact(clean_text(raw)))


def fold(text: str) -> str:
    """Lower case, accents removed, every run of non-alphanumerics made one space."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]+", " ", bare.casefold()).strip()


def name_key(text: str) -> str:
    """The key two spellings of a name share.

    'Clinique Médicale  St-Jean' and 'clinique medicale st jean' both give the latter.
    """
    return fold(text)[:200]


def clean_text(text: object) -> str:
    """Trim and collapse inner whitespace; None becomes ''."""
    if text is None:
        return ""
    return re.sub(r"\s+", " ", str(text)).strip()


_PROVINCE_NAMES = {
    Province.AB: ["alberta", "alta"],
    Province.BC: ["british columbia", "colombie britannique", "b c"],
    Province.MB: ["manitoba", "man"],
    Province.NB: ["new brunswick", "nouveau brunswick", "n b"],
    Province.NL: [
        "newfoundland and labrador",
        "newfoundland",
        "terre neuve et labrador",
        "terre neuve",
        "nfld",
        "nf",
    ],
    Province.NS: ["nova scotia", "nouvelle ecosse", "n s"],
    Province.NT: ["northwest territories", "territoires du nord ouest", "nwt"],
    Province.NU: ["nunavut"],
    Province.ON: ["ontario", "ont"],
    Province.PE: [
        "prince edward island",
        "ile du prince edouard",
        "pei",
        "p e i",
        "i p e",
    ],
    Province.QC: ["quebec", "que", "pq", "p q"],
    Province.SK: ["saskatchewan", "sask"],
    Province.YT: ["yukon", "yukon territory", "yk"],
}
_PROVINCE_LOOKUP: dict[str, str] = {}
for _code, _names in _PROVINCE_NAMES.items():
    _PROVINCE_LOOKUP[_code.lower()] = _code.value
    for _name in _names:
        _PROVINCE_LOOKUP[_name] = _code.value


def parse_province(raw: object) -> str:
    """'ON', 'ont.', 'Ontario', 'Québec', 'Colombie-Britannique' -> two-letter code."""
    key = fold(clean_text(raw))
    if not key:
        raise ValueError(_("province is missing"))
    code = _PROVINCE_LOOKUP.get(key)
    if code is None:
        raise ValueError(
            _("unknown province %(value)s: use a code such as ON or a name")
            % {"value": _shown(raw)}
        )
    return code


_YES = {"y", "yes", "oui", "o", "true", "1", "x", "vrai"}
_NO = {"n", "no", "non", "false", "0", "faux"}


def parse_yes_no(raw: object, *, default: bool | None = None) -> bool:
    """Y/Yes/Oui/true/1/x -> True; N/No/Non/false/0 -> False; blank -> default."""
    if isinstance(raw, bool):
        return raw
    key = fold(clean_text(raw))
    if not key:
        if default is None:
            raise ValueError(_("yes or no is missing"))
        return default
    if key in _YES:
        return True
    if key in _NO:
        return False
    raise ValueError(_("%(value)s is not yes or no") % {"value": _shown(raw)})


def _not_an_amount(raw: object) -> str:
    return _("price %(value)s is not an amount such as 125.00") % {"value": _shown(raw)}


_PRICE_JUNK = re.compile(r"(?i)cad|ca\$|\$|\s|\u00a0")


def parse_price(raw: object) -> Decimal | None:
    """'$1,250.00', '95', 95, '1 250,00 $' -> Decimal; blank -> None (price not known yet)."""
    if raw is None:
        return None
    typed = isinstance(raw, str)
    if isinstance(raw, float):
        # openpyxl hands numeric cells over as float; the cell's shortest repr is what was typed.
        raw = repr(raw)
    if isinstance(raw, int | Decimal):
        value = Decimal(raw)
    else:
        text = _PRICE_JUNK.sub("", str(raw))
        if text == "":
            return None
        # ASCII digits only (\d would take any script's, and Decimal reads them).
        if re.fullmatch(r"\d{1,3}(\.\d{3})*,\d{1,2}", text, re.ASCII) or re.fullmatch(
            r"\d+,\d{1,2}", text, re.ASCII
        ):
            # French-Canadian notation: 1 250,00 or 95,50
            text = text.replace(".", "").replace(",", ".")
        elif re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", text, re.ASCII):
            text = text.replace(",", "")
        if not re.fullmatch(r"\d+(\.\d+)?", text, re.ASCII):
            raise ValueError(_not_an_amount(raw))
        if typed and "." in text and len(text.rpartition(".")[2]) > 2:
            # Typed text is an amount to the cent; a spreadsheet's number cell is rounded.
            raise ValueError(_not_an_amount(raw))
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise ValueError(_not_an_amount(raw)) from None
    if value < 0:
        raise ValueError(_("price %(value)s is negative") % {"value": _shown(raw)})
    if value >= Decimal("10000000000"):
        raise ValueError(_("price %(value)s is too large") % {"value": _shown(raw)})
    return to_money(value)
