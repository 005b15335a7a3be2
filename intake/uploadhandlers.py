"""Django's upload handler, with a full disk turned into a clear answer.

Django writes each uploaded file to a temporary file while it parses the
request body, before any view runs (the CSRF check reads the form first). If
that disk is full, OSError(ENOSPC) escapes from the parser and the patient gets
a 500, or the upload script gets HTML where it expects JSON (issue 11). This
handler stops the upload instead, removes its temporary file, and leaves the
error on the request for the upload view to answer (intake.views.upload).
"""

from django.core.files.uploadhandler import StopUpload, TemporaryFileUploadHandler


class StorageSafeTemporaryFileUploadHandler(TemporaryFileUploadHandler):
    def new_file(self, *args, **kwargs):
        try:
            return super().new_file(*args, **kwargs)
        except OSError as exc:
            self._fail(exc)

    def receive_data_chunk(self, raw_data, start):
        try:
            return super().receive_data_chunk(raw_data, start)
        except OSError as exc:
            self._fail(exc)

    def file_complete(self, file_size):
        try:
            return super().file_complete(file_size)
        except OSError as exc:
            self._fail(exc)

    def _fail(self, exc):
        if self.request is not None:
            self.request.upload_storage_error = exc
        file = getattr(self, "file", None)
        if file is not None:
            try:
                file.close()  # a TemporaryUploadedFile deletes itself on close
            except OSError:
                pass
        # Read and drop the rest of the body, so the response still reaches the browser.
        raise StopUpload(connection_reset=False)
