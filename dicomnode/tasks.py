"""The DICOM node's periodic task: a thin adapter over ``services.orthanc_poll``."""

from celery import shared_task


# Beat sends it every 10 s (INTAKE_ORTHANC_URL set) with a 10 s expiry, so a
# busy worker never works through a backlog of polls. Its own time limits: one
# large study may take longer to fetch than the 30 s other tasks get. Two
# polls at once are safe (the services lock and claim).
@shared_task(acks_late=True, soft_time_limit=600, time_limit=660)
def orthanc_poll():
    from .services import orthanc_poll as poll

    return poll()


@shared_task(acks_late=True)
def purge_received_studies():
    from .services import received_studies_purge

    return received_studies_purge()
