"""Django's upload handler: uploads wait on disk encrypted, and a full disk is
a clear answer.

Django writes each uploaded file to a temporary file while it parses the
request body, before any view runs (the CSRF check reads the form first).
Django's own handler writes it there in plaintext (issue 22): this one writes
it to a clinic.encrypted_tempfile.EncryptedTemporaryFile, encrypted under a key
that lives only in this request's memory. MRI files are large, so they are
never held whole in memory either.

If that disk is full, OSError(ENOSPC) would escape from the parser and the
patient get a 500, or the upload script HTML where it expects JSON (issue 11).
This handler stops the upload instead, removes its temporary file, and leaves
the error on the request for the upload view to answer (intake.views.upload).
"""

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload

from clinic.encrypted_tempfile import EncryptedTemporaryFile


class EncryptedTemporaryUploadedFile(UploadedFile):
    """An upload in an encrypted temporary file. It has no
    ``temporary_file_path()``: the only path holds ciphertext, so readers
    (storage, checks) go through ``read()``, which decrypts."""

    def __init__(self, name, content_type, size, charset, content_type_extra=None):
        file = EncryptedTemporaryFile(dir=settings.FILE_UPLOAD_TEMP_DIR)
        super().__init__(file, name, content_type, size, charset, content_type_extra)


class EncryptedTemporaryFileUploadHandler(FileUploadHandler):
    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.file = None  # never the request's previous file, should this one fail
        try:
            self.file = EncryptedTemporaryUploadedFile(self.file_name, self.content_type, 0, self.charset)
        except OSError as exc:
            self._fail(exc)

    def receive_data_chunk(self, raw_data, start):
        try:
            self.file.write(raw_data)
        except OSError as exc:
            self._fail(exc)

    def file_complete(self, file_size):
        try:
            self.file.seek(0)
        except OSError as exc:
            self._fail(exc)
        self.file.size = file_size
        return self.file

    def upload_interrupted(self):
        file = getattr(self, "file", None)
        if file is not None:
            file.close()  # unnamed: closing frees it

    def _fail(self, exc):
        if self.request is not None:
            self.request.upload_storage_error = exc
        file = getattr(self, "file", None)
        if file is not None:
            try:
                file.close()
            except OSError:
                pass
        # Read and drop the rest of the body, so the response still reaches the browser.
        raise StopUpload(connection_reset=False)
