from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from catalog.alerts.models import Subscription
from catalog.alerts.services import (
    SubscriptionError,
    subscription_create,
    subscription_delete,
    subscription_resolve_target,
)


class Command(BaseCommand):
    help = ("Make a user watch a source, a schema or a dataset: "
            "watch USERNAME SOURCE[.SCHEMA[.DATASET]] [--digest] [--breaking-only] | --off")
    requires_system_checks = []  # no checks importing every view, as catalog/crawls/management/commands/crawl.py says

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("target", help="SOURCE, SOURCE.SCHEMA or SOURCE.SCHEMA.DATASET")
        parser.add_argument("--digest", action="store_true", help="one daily digest instead of an email per crawl")
        parser.add_argument("--breaking-only", action="store_true", help="only breaking changes")
        parser.add_argument("--off", action="store_true",
                            help="stop watching (on a dataset this also silences an owner's default watch)")

    def handle(self, *args, username, target, digest, breaking_only, off, **options):
        if off and (digest or breaking_only):
            raise CommandError("--off takes no --digest or --breaking-only")
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user named '{username}'")
        try:
            source, schema_name, dataset = subscription_resolve_target(target)
            if off and dataset is None:
                # Nothing to silence beyond the row itself: owners' default watch is per dataset.
                existing = Subscription.objects.filter(user=user, source=source, schema_name=schema_name, dataset=None).first()
                if existing is not None:
                    subscription_delete(existing)
                label = f"{source.name}.{schema_name}" if schema_name else source.name
                self.stdout.write(f"{user.username} no longer watches {label}" + ("" if existing else " (did not before)"))
                return
            mode = Subscription.OFF if off else (Subscription.DIGEST if digest else Subscription.IMMEDIATE)
            subscription = subscription_create(user=user, source=source, schema_name=schema_name, dataset=dataset,
                                               mode=mode, breaking_only=breaking_only)
        except SubscriptionError as exc:
            raise CommandError(str(exc)) from None
        if off:
            self.stdout.write(f"{user.username} no longer watches {subscription.target_label}")
            return
        how = "daily digest" if digest else "immediately"
        what = "breaking changes" if breaking_only else "all changes"
        warning = "" if user.email else " (this user has no email address: nothing will be sent)"
        self.stdout.write(f"{user.username} watches {subscription.target_label}: {what}, {how}{warning}")
