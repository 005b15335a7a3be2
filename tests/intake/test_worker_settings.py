"""The worker keeps one database connection across tasks (Celery closes it
around every task unless CELERY_DB_REUSE_MAX is set: ~4x per task here)."""

import json
import os
import subprocess
import sys
import threading
from unittest import mock

import pytest
from celery.signals import task_postrun
from django.db.backends.signals import connection_created

from intake.services.submission import review_request_submit

from .helpers import wait_for
from .test_routing_reliability import ANSWERS

pytestmark = pytest.mark.worker


def test_worker_reuses_its_database_connection(seeded_tx, celery_worker):
    from intake.models import ReviewRequest

    main_thread = threading.get_ident()
    opened, ran = [], []

    def on_connect(sender=None, connection=None, **kwargs):
        if threading.get_ident() != main_thread:
            opened.append(connection.alias)

    def on_task(sender=None, **kwargs):
        if sender is not None and sender.name == "intake.tasks.route_case":
            ran.append(sender.name)

    connection_created.connect(on_connect, weak=False)
    task_postrun.connect(on_task, weak=False)
    try:
        for i in range(4):
            review_request_submit(answers={**ANSWERS, "email": f"p{i}@example.com", "phone": f"+1312555020{i}"})
            wait_for(lambda n=i: len(ran) > n)  # one at a time: each task starts after the last ended
    finally:
        connection_created.disconnect(on_connect)
        task_postrun.disconnect(on_task)
    assert ReviewRequest.objects.filter(routed_at__isnull=True).count() == 0
    assert len(ran) == 4
    assert len(opened) <= 1, f"the worker opened {len(opened)} database connections for 4 tasks"


def test_worker_settings_are_safe():
    from clinic.celery import app

    conf = app.conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_soft_time_limit < conf.task_time_limit
    assert {q.name for q in conf.task_queues} == {"urgent", "routine", "webhooks"}


def test_a_notification_is_tried_as_often_as_the_sweep_allows():
    """One number: the task's retries and the sweep's give-up count (a task
    that stopped sooner would leave a row the sweep never gives up on)."""
    from intake.services.dispatch import MAX_NOTIFICATION_ATTEMPTS
    from intake.tasks import send_notification

    assert send_notification.max_retries + 1 == MAX_NOTIFICATION_ATTEMPTS


def test_the_redis_visibility_timeout_outlasts_a_task_and_its_longest_retry_wait():
    """On Redis an unacknowledged message comes back after the visibility
    timeout: shorter than a running task, or than a retry's countdown (held
    unacknowledged by the worker), and the task runs twice. Checked on the
    settings as a Redis deployment loads them, whatever broker this run uses."""
    from clinic.celery import backoff
    from intake.tasks import route_case, send_notification

    script = (
        "import json; from clinic.celery import app; c = app.conf; "
        "print(json.dumps([c.broker_url, c.broker_transport_options, c.task_time_limit]))"
    )
    env = {
        **os.environ,
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "DJANGO_SETTINGS_MODULE": "clinic.settings.test",
    }
    env.pop("INTAKE_VISIBILITY_TIMEOUT", None)
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True).stdout
    broker_url, options, time_limit = json.loads(out.strip().splitlines()[-1])
    assert broker_url.startswith("redis://")
    visibility = options["visibility_timeout"]  # set explicitly: no default from kombu taken on trust
    longest_wait = max(
        min(300, 2 ** (r + 1)) for task in (route_case, send_notification) for r in range(task.max_retries)
    )
    with mock.patch("random.uniform", side_effect=lambda lo, hi: hi):
        # the bound used above is backoff's
        assert max(backoff(task.max_retries - 1) for task in (route_case, send_notification)) == longest_wait
    assert visibility > time_limit
    assert visibility > longest_wait


@pytest.mark.django_db(transaction=True)
def test_urgent_and_routine_messages_land_in_their_own_queue_only():
    from clinic.celery import app
    from intake.services.dispatch import CELERY_ROUTINE, CELERY_URGENT, enqueue_now
    from intake.tasks import route_case
    from tests.conftest import purge_broker

    def depth(queue):
        with app.connection_for_write() as conn:
            return app.amqp.queues[queue].bind(conn.default_channel).queue_declare().message_count

    purge_broker()
    with app.connection_for_write() as conn:  # declare both, as a worker would
        for q in app.conf.task_queues:
            q.bind(conn.default_channel).declare()
    assert enqueue_now(route_case, 999_001, celery_queue=CELERY_URGENT)
    assert (depth("urgent"), depth("routine")) == (1, 0)
    assert enqueue_now(route_case, 999_002, celery_queue=CELERY_ROUTINE)
    assert (depth("urgent"), depth("routine")) == (1, 1)
    purge_broker()


def test_every_task_can_be_sent_its_time_limits_agree():
    # Celery refuses to send a task whose soft time limit is over its hard one,
    # and the hard one defaults to the project's (CELERY_TASK_TIME_LIMIT): a
    # task given only a long soft limit is never sent at all.
    from celery import current_app

    tasks = {name: t for name, t in current_app.tasks.items() if not name.startswith("celery.")}
    assert "imaging.tasks.index_mri_file" in tasks and "intake.tasks.route_case" in tasks
    refused = [n for n, t in tasks.items() if t.soft_time_limit and t.time_limit and t.soft_time_limit > t.time_limit]
    assert refused == []
