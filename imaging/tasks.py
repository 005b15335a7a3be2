"""Imaging tasks: ids only. Safe to run twice (the service returns early).

Indexing reads a patient's untrusted bytes, so it runs under the poison-message
rule (``clinic.untrusted``): a file that worker processes died on twice is
marked "cannot be shown" and staff are alerted, instead of being delivered
again and again.
"""

from clinic.untrusted import untrusted_bytes_task
from intake.storage import StorageUnavailable


def _begin(mri_file_id: int) -> int:
    from .services import imaging_index_attempt_begin

    return imaging_index_attempt_begin(mri_file_id=mri_file_id)


def _end(mri_file_id: int) -> None:
    from .services import imaging_index_attempt_end

    imaging_index_attempt_end(mri_file_id=mri_file_id)


def _give_up(mri_file_id: int, *, deaths: int) -> None:
    from .services import imaging_index_give_up

    imaging_index_give_up(mri_file_id=mri_file_id, deaths=deaths)


# A 200-slice ZIP takes seconds; the limits are for a CD of many series. Both are
# set: a soft limit over the project's hard one (60 s) makes Celery refuse to send it.
@untrusted_bytes_task(begin=_begin, end=_end, give_up=_give_up, max_retries=6, soft_time_limit=300, time_limit=360)
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
