#!/usr/bin/env python
"""Django's command-line utility for Anmu."""

import os
import sys

# Commands that only read the code (never serve requests or touch data) run without a SECRET_KEY,
# so `manage.py makemigrations --check` works in a bare shell; everything else needs DEBUG=1 or a key.
CODE_ONLY_COMMANDS = {"makemigrations", "makemessages", "compilemessages", "check", "help"}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    command = sys.argv[1] if len(sys.argv) > 1 else "help"
    if command in CODE_ONLY_COMMANDS and "DEBUG" not in os.environ and "SECRET_KEY" not in os.environ:
        os.environ["DEBUG"] = "1"
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
