"""Unsubscribe links carry a stored random nonce; a subscription can leave out single datasets;
the outbox remembers when sending a message started failing and last failed."""

import secrets

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import catalog.alerts.models


def give_each_subscription_its_own_nonce(apps, schema_editor):
    # AddField fills existing rows with one value of the default: every row gets its own here.
    # Links sent before this migration carry no nonce and are answered "this link has expired".
    Subscription = apps.get_model("alerts", "Subscription")
    rows = list(Subscription.objects.only("id"))
    for row in rows:
        row.nonce = secrets.token_urlsafe(16)
    Subscription.objects.bulk_update(rows, ["nonce"], batch_size=1000)


class Migration(migrations.Migration):

    dependencies = [
        ('alerts', '0001_initial'),
        ('inventory', '0007_references_checked_per_statement'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='subscription',
            name='nonce',
            field=models.CharField(default=catalog.alerts.models.new_nonce, editable=False, help_text="Secret in this subscription's unsubscribe links; a new one invalidates them", max_length=43),
        ),
        migrations.RunPython(give_each_subscription_its_own_nonce, migrations.RunPython.noop),
        migrations.CreateModel(
            name='SubscriptionExclusion',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('dataset', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='inventory.dataset')),
                ('subscription', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='exclusions', to='alerts.subscription')),
            ],
            options={
                'ordering': ['dataset__schema_name', 'dataset__name'],
                'constraints': [models.UniqueConstraint(fields=('subscription', 'dataset'), name='subscription_exclusion_unique')],
            },
        ),
        migrations.CreateModel(
            name='UnsubscribeKey',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('nonce', models.CharField(default=catalog.alerts.models.new_nonce, max_length=43)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('user', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='unsubscribe_key', to=settings.AUTH_USER_MODEL)),
            ],
        ),
        migrations.AddField(
            model_name='outboxmessage',
            name='first_failed_at',
            field=models.DateTimeField(blank=True, help_text='When the first attempt to send it failed', null=True),
        ),
        migrations.AddField(
            model_name='outboxmessage',
            name='last_failed_at',
            field=models.DateTimeField(blank=True, help_text='When the latest attempt failed', null=True),
        ),
        migrations.AddIndex(
            model_name='outboxmessage',
            index=models.Index(fields=['user', 'status'], name='alerts_outbox_user_status'),
        ),
    ]
