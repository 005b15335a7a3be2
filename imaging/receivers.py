"""imaging's answers to what intake announces (connected in ImagingConfig.ready)."""

from .services import INDEXED_TYPES, imaging_index_enqueue


def index_attached_files(sender, *, case, files, **kwargs):
    """Index DICOM and ZIP files for the viewer in the background, once the
    transaction that attached them commits, so the clinician's first look does
    not wait for it (the case page still indexes what is missing)."""
    for f in files:
        if f.file_type in INDEXED_TYPES:
            imaging_index_enqueue(f.pk)
