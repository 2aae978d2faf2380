"""A cron schedule read in a named time zone (settings.TIME_ZONE for the sources' schedules), whatever
Celery's own time zone: 'every day at 3' is 3 o'clock where the people who set it are."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from celery import schedules


class ZonedCrontab(schedules.crontab):
    def __init__(self, minute="*", hour="*", day_of_week="*", day_of_month="*", month_of_year="*", *, zone: str = "UTC",
                 app=None):
        self.zone = zone
        self.tz = ZoneInfo(zone)
        super().__init__(minute=minute, hour=hour, day_of_week=day_of_week, day_of_month=day_of_month,
                         month_of_year=month_of_year, nowfun=self.now_in_zone, app=app)

    def now_in_zone(self) -> datetime:
        return datetime.now(self.tz)

    def remaining_estimate(self, last_run_at: datetime, **kwargs):
        # Celery's crontab reads the fields in last_run_at's zone: give it the schedule's.
        return super().remaining_estimate(self.maybe_make_aware(last_run_at).astimezone(self.tz), **kwargs)

    def __reduce__(self):
        return (self.__class__, (self._orig_minute, self._orig_hour, self._orig_day_of_week, self._orig_day_of_month,
                                 self._orig_month_of_year), {"zone": self.zone})

    def __setstate__(self, state):
        self.__init__(self._orig_minute, self._orig_hour, self._orig_day_of_week, self._orig_day_of_month,
                      self._orig_month_of_year, zone=state["zone"])

    def __eq__(self, other):
        if isinstance(other, ZonedCrontab):
            return (other.minute, other.hour, other.day_of_week, other.day_of_month, other.month_of_year, other.zone) == (
                self.minute, self.hour, self.day_of_week, self.day_of_month, self.month_of_year, self.zone)
        return NotImplemented

    def __repr__(self):
        return (f"<crontab: {self._orig_minute} {self._orig_hour} {self._orig_day_of_month} {self._orig_month_of_year} "
                f"{self._orig_day_of_week} ({self.zone})>")
