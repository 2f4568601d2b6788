"""`make i18n`'s last step before compiling: the English catalogue says each msgid as it is, so that a message new
to the code is never an untranslated entry there (the Bengali one is left to a translator)."""

from __future__ import annotations

import sys

from babel.messages.pofile import read_po, write_po


def main(path: str) -> None:
    with open(path, "rb") as f:
        catalogue = read_po(f, locale="en")
    for message in catalogue:
        if (message.id and not message.string) or (isinstance(message.string, tuple) and not all(message.string)):
            message.string = message.id
        message.flags.discard("fuzzy")
    with open(path, "wb") as f:
        write_po(f, catalogue, width=120, sort_output=True)


if __name__ == "__main__":
    main(sys.argv[1])
