"""The poison-message rule for every task that reads untrusted bytes (one owner).

Such tasks are ``acks_late`` with ``reject_on_worker_lost``: a worker process
that dies mid-task (the kernel's out-of-memory killer, the hard time limit, a
native library's abort) leaves the message to be delivered again. Without a
rule, a file that kills the process that reads it kills the next one, and the
next, until someone edits the database by hand.

The rule: every attempt is counted before the work, in its own committed
transaction, and the count is cleared when the attempt ends (it returned, or
raised, or asked to be retried). A count still standing when the task starts
is the number of worker processes that died on this very work. At
``DEATHS_ALLOWED`` the task does not try again: the app marks its object
failed with the reason and alerts staff once, and the message is
acknowledged. Each app gives the three hooks (its own services, by the task's
arguments); the rule itself is written here only.
"""

import functools

from celery import shared_task

# The second death on the same work is not bad luck.
DEATHS_ALLOWED = 2


def run_untrusted(*, begin, end, give_up, work):
    """The rule around one piece of work: ``begin()`` counts the attempt and
    returns how many earlier attempts never ended; at DEATHS_ALLOWED,
    ``give_up(deaths=n)`` instead of ``work()``; ``end()`` however ``work()`` ends.
    For work that is not a task of its own (one study of a poll, say)."""
    deaths = begin()
    if deaths >= DEATHS_ALLOWED:
        give_up(deaths=deaths)
        return None
    try:
        return work()
    finally:
        end()


def untrusted_bytes_task(*, begin, end, give_up, **options):
    """A bound Celery task (``acks_late``, ``reject_on_worker_lost``) under the rule.

    ``begin(*args)`` counts an attempt and returns how many earlier attempts
    never ended; ``end(*args)`` clears the count; ``give_up(*args, deaths=n)``
    marks the object failed and alerts staff (once, however often it is called).
    """

    def wrap(fn):
        name = f"{fn.__module__}.{fn.__name__}"

        @shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, name=name, **options)
        @functools.wraps(fn)
        def task(self, *args, **kwargs):
            return run_untrusted(
                begin=lambda: begin(*args, **kwargs),
                end=lambda: end(*args, **kwargs),
                give_up=lambda deaths: give_up(*args, deaths=deaths, **kwargs),
                work=lambda: fn(self, *args, **kwargs),
            )

        return task

    return wrap
