"""What beat remembers between its runs: when each of its entries was last sent."""

from django.db import models


class BeatRun(models.Model):
    """The last run of one beat entry (by its name), so a restarted beat neither repeats nor skips a run: a
    daily entry still runs daily when beat restarts more often than that. Written by catalog/beat/scheduler.py
    only; an entry beat has seen but never sent has a row too (total_run_count 0), counting from then."""

    name = models.CharField(max_length=200, unique=True)
    last_run_at = models.DateTimeField()
    total_run_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name}: last run {self.last_run_at:%Y-%m-%d %H:%M:%S}"
