#!/usr/bin/env python
import atexit
import gc
import os
import sys

from django.core.exceptions import ImproperlyConfigured


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "catalog.settings")
    # A command is a short process. At its exit the cyclic collector would scan every object its start made (Django,
    # the apps, their modules), all alive until then anyway: 0.1-0.2 s, more than the rest of a small command. Frozen
    # by the last exit handler to run, they are left to the operating system.
    atexit.register(gc.freeze)
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        # Configuration refused (a production start without SECRET_KEY, a bad key): the message says
        # what to set; a traceback would only bury it.
        sys.exit(f"Canon cannot start: {exc}")


if __name__ == "__main__":
    main()
