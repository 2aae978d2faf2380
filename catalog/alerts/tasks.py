from catalog.alerts.services import digests_send, outbox_flush
from catalog.celery import app


@app.task(name="canon.outbox_flush", ignore_result=True)
def outbox_flush_task():
    return outbox_flush()


@app.task(name="canon.send_digests", ignore_result=True)
def send_digests_task():
    return len(digests_send())
