"""Imaging tasks: ids only. Safe to run twice (the service returns early)."""

from celery import shared_task

from intake.storage import StorageUnavailable


# A 200-slice ZIP takes seconds; the limits are for a CD of many series. Both are
# set: a soft limit over the project's hard one (60 s) makes Celery refuse to send it.
@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=6, soft_time_limit=300, time_limit=360)
def index_mri_file(self, mri_file_id: int):
    from clinic.celery import backoff

    from .cache import pixels
    from .services import imaging_index_file

    try:
        done = imaging_index_file(mri_file_id=mri_file_id)
    except StorageUnavailable as exc:
        raise self.retry(exc=exc, countdown=backoff(self.request.retries)) from None
    finally:
        # A worker shows no images: the decrypted file is not kept in its memory.
        pixels.clear()
    return done.state if done else None
