#!/usr/bin/env python
import os
import sys

from django.core.exceptions import ImproperlyConfigured


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "catalog.settings")
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        # Configuration refused (a production start without SECRET_KEY, a bad key): the message says
        # what to set; a traceback would only bury it.
        sys.exit(f"Canon cannot start: {exc}")


if __name__ == "__main__":
    main()
