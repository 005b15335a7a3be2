"""What the request app announces to the apps built on it.

intake knows nothing of those apps (.importlinter): an app that must act when
something happens to a case connects a receiver here in its AppConfig.ready().
Receivers run inside the sender's transaction; one that starts background work
defers it with ``transaction.on_commit``.
"""

from django.dispatch import Signal

# MRI files now belong to a case: a staff member attached one, or a patient's
# draft uploads came with the submitted request. Arguments: ``case`` and
# ``files`` (the MriFile rows). imaging indexes DICOM and ZIP files for its viewer.
mri_files_attached = Signal()
