from django.apps import AppConfig


class CrawlsConfig(AppConfig):
    """The crawl: lease, extraction, the one transaction, the steps, finish and fail, tasks and the
    `crawl` command. It sits on top of every app it calls; none of them imports it."""

    name = "catalog.crawls"
    label = "crawls"
