"""Money is Decimal in CAD, rounded half-up to the cent. Floats are refused."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
MONEY_MAX_DIGITS = 12
MONEY_DECIMAL_PLACES = 2
CURRENCY = "CAD"


def to_money(value: Decimal | int | str) -> Decimal:
    """Quantize to the cent, half-up. A float is a programming error, not a rounding question."""
    if isinstance(value, float):
        raise TypeError("money must not be a float; pass a Decimal, int or str")
    try:
        return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        raise ValueError(f"not an amount of money: {value!r}") from None


def format_money(value: Decimal | int | str, language: str = "en") -> str:
    """An amount as people read it in their language: "$1,234.56" / "1 234,56 $" (Canadian
    French: narrow no-break space between thousands, a no-break space before the sign)."""
    amount = to_money(value)
    sign = "-" if amount < 0 else ""
    text = f"{abs(amount):,.2f}"
    if (language or "en")[:2] == "fr":
        return sign + text.replace(",", "\u202f").replace(".", ",") + "\xa0$"
    return f"{sign}${text}"
