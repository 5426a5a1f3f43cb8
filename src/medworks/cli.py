"""The `medworks` console command: the project's manage.py.

`medworks import-partners` and `medworks import_partners` are the same command: dashes read
better on a command line, Django module names need underscores.

Arguments are text: one the system could not decode (bytes that are not UTF-8, which Python
hands over as lone surrogates), or one holding a card number (RULES.md, cards: never typed
anywhere, a shell's history included), is refused here, for every command, with one line on
stderr and status 2, before any command sees it.
"""

import os
import sys

from medworks.core.cards import contains_card_number


def gettext_noop(message: str) -> str:
    """Marks a message for the catalogue (Django's own needs the settings loaded, and these
    are said before they are); `_say` translates it."""
    return message


UNDECODABLE = gettext_noop(
    "Argument %(position)s is not valid text (bytes that are not UTF-8): type it again."
)
CARD_NUMBER = gettext_noop(
    "Argument %(position)s holds a card number: card numbers are never typed here."
)


def _refusal(argv: list[str]) -> str | None:
    """Why the arguments cannot be read, in the reader's language, or None."""
    for position, arg in enumerate(argv[1:], start=1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            return _say(UNDECODABLE, position)
        if contains_card_number(arg):
            return _say(CARD_NUMBER, position)
    return None


def _say(message: str, position: int) -> str:
    """The message in the language of the settings (LANGUAGE_CODE); in English when they do
    not load (they say why themselves on a good command line)."""
    try:
        import django
        from django.utils.translation import gettext

        django.setup()
        text = gettext(message)
    except Exception:
        text = message
    return "medworks: " + text % {"position": position}


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medworks.settings")
    if (refusal := _refusal(argv)) is not None:
        print(refusal, file=sys.stderr)
        sys.exit(2)
    if len(argv) > 1 and not argv[1].startswith("-"):
        argv[1] = argv[1].replace("-", "_")
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
