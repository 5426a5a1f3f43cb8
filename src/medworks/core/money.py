"""Money is Decimal in CAD, rounded half-up to the cent. Floats are refused.

Text is read in one notation only: ASCII digits, a point and decimals, a leading minus
("1250", "1250.5", "-3.75"). Never an exponent ("1e3"), other digits ("١٢٣", which Decimal
would read), underscores ("1_000"), NaN or Infinity. `parse_money` reads an amount a person or
a system gave (the documented format: at most two decimals); `to_money` rounds one the code
computed.
"""

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
MONEY_MAX_DIGITS = 12
MONEY_DECIMAL_PLACES = 2
CURRENCY = "CAD"


# Plain decimal notation, any number of decimals (what to_money rounds).
DECIMAL_TEXT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?", re.ASCII)
# The documented format of an amount given to the desk: at most two decimals.
MONEY_TEXT = re.compile(r"-?[0-9]+(?:\.[0-9]{1,2})?", re.ASCII)


def is_plain_decimal(text: str) -> bool:
    """Whether `text` (trimmed) is a number in plain decimal notation (see the docstring)."""
    return bool(DECIMAL_TEXT.fullmatch(text.strip()))


def to_money(value: Decimal | int | str) -> Decimal:
    """Quantize to the cent, half-up. A float is a programming error, not a rounding question."""
    if isinstance(value, float):
        raise TypeError("money must not be a float; pass a Decimal, int or str")
    if isinstance(value, bool):
        raise TypeError("money must not be a boolean; pass a Decimal, int or str")
    if isinstance(value, str) and not is_plain_decimal(value):
        raise ValueError(f"not an amount of money: {value!r}")
    try:
        amount = Decimal(value.strip() if isinstance(value, str) else value)
        if not amount.is_finite():
            raise InvalidOperation
        return amount.quantize(CENT, rounding=ROUND_HALF_UP)
    except (InvalidOperation, TypeError):
        raise ValueError(f"not an amount of money: {value!r}") from None


def parse_money(value: Decimal | int | str) -> Decimal:
    """An amount as given at a door: text in the documented format ("1500", "1500.00"), or a
    Decimal or int exact to the cent. Raises ValueError otherwise (TypeError for a float or
    a boolean): more than two decimals is refused, never rounded away."""
    if isinstance(value, str):
        if not MONEY_TEXT.fullmatch(value.strip()):
            raise ValueError(f"not an amount of money: {value!r}")
        return to_money(value)
    amount = to_money(value)
    if amount != value:
        raise ValueError(f"not an amount of money to the cent: {value!r}")
    return amount


def format_money(value: Decimal | int | str, language: str = "en") -> str:
    """An amount as people read it in their language: "$1,234.56" / "1 234,56 $" (Canadian
    French: narrow no-break space between thousands, a no-break space before the sign)."""
    amount = to_money(value)
    sign = "-" if amount < 0 else ""
    text = f"{abs(amount):,.2f}"
    if (language or "en")[:2] == "fr":
        return sign + text.replace(",", "\u202f").replace(".", ",") + "\xa0$"
    return f"{sign}${text}"


def money_field(verbose_name, **kwargs):
    """A model field holding an amount of money: Decimal, to the cent, CAD."""
    from django.db import models

    return models.DecimalField(
        verbose_name, max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES, **kwargs
    )
