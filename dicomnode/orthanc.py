"""A small client for Orthanc's REST API, and the configuration we run it with.

Only the calls the node needs: the change feed, a study's main tags and its
ZIP archive. The standard library's HTTP client is enough for three GETs.
Errors name the call and the HTTP status, never a response body (Orthanc's
answers carry patient names).
https://orthanc.uclouvain.be/book/users/rest.html
"""

import base64
import http.client
import json
import re
import socket
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass

from django.conf import settings

# Orthanc's identifiers are SHA-1 hashes of the DICOM UIDs in five groups of
# eight hex digits; anything else is never put into a URL.
ORTHANC_ID = re.compile(r"[0-9a-f]{8}(?:-[0-9a-f]{8}){4}")
CHUNK_BYTES = 1024 * 1024


class OrthancUnavailable(Exception):
    """Orthanc could not be reached, answered with an error, or a download
    ended early. Nothing was attached; the study is tried again later."""


class StudyGone(Exception):
    """Orthanc no longer has this study (deleted there after it arrived)."""


@dataclass(frozen=True)
class Change:
    seq: int
    change_type: str
    resource_type: str
    resource_id: str


@dataclass(frozen=True)
class StudyHeader:
    """A study's main tags as Orthanc indexed them, exactly as the images record them."""

    orthanc_id: str
    accession_number: str = ""
    study_date: str = ""
    study_description: str = ""
    patient_id: str = ""
    patient_name: str = ""
    patient_birth_date: str = ""
    modalities: tuple[str, ...] = ()
    series_count: int = 0
    instance_ids: tuple[str, ...] = ()

    @property
    def instance_count(self) -> int:
        return len(self.instance_ids)


class OrthancClient:
    def __init__(self, url: str, username: str = "", password: str = "", timeout: float = 30.0):
        if not url.startswith(("http://", "https://")):
            raise ValueError("INTAKE_ORTHANC_URL must start with http:// or https://")
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._auth = ""
        if username:
            token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
            self._auth = f"Basic {token}"

    @classmethod
    def from_settings(cls) -> "OrthancClient":
        return cls(
            settings.INTAKE_ORTHANC_URL,
            settings.INTAKE_ORTHANC_USERNAME,
            settings.INTAKE_ORTHANC_PASSWORD,
            timeout=settings.INTAKE_ORTHANC_TIMEOUT,
        )

    # --- HTTP ---------------------------------------------------------------
    def _open(self, path: str, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data)  # noqa: S310  (ours: http(s) checked above)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self._auth:
            request.add_header("Authorization", self._auth)
        what = ("POST " if data is not None else "GET ") + path.split("?")[0]
        try:
            return urllib.request.urlopen(request, timeout=self.timeout)  # noqa: S310  (as above)
        except urllib.error.HTTPError as exc:
            exc.close()
            if exc.code == 404:
                raise StudyGone(f"{what}: 404") from None
            raise OrthancUnavailable(f"{what}: HTTP {exc.code}") from None
        except (OSError, http.client.HTTPException) as exc:  # URLError, refused, reset, timeout
            raise OrthancUnavailable(f"{what}: {type(exc).__name__}") from None

    def _json(self, path: str):
        with self._open(path) as response:
            try:
                return json.loads(response.read())
            except (OSError, http.client.HTTPException, ValueError) as exc:
                raise OrthancUnavailable(f"GET {path.split('?')[0]}: {type(exc).__name__}") from None

    @staticmethod
    def _checked(study_id: str) -> str:
        if not ORTHANC_ID.fullmatch(study_id or ""):
            raise ValueError("not an Orthanc identifier")
        return study_id

    # --- The calls ------------------------------------------------------------
    def changes(self, *, since: int, limit: int = 100) -> tuple[list[Change], int, bool]:
        """``GET /changes``: the changes after ``since``, the last sequence number, and whether that was all."""
        data = self._json(f"/changes?since={int(since)}&limit={int(limit)}")
        changes = [
            Change(
                seq=int(c["Seq"]),
                change_type=c.get("ChangeType", ""),
                resource_type=c.get("ResourceType", ""),
                resource_id=c.get("ID", ""),
            )
            for c in data.get("Changes", [])
        ]
        return changes, int(data.get("Last", 0)), bool(data.get("Done", True))

    def study(self, study_id: str) -> StudyHeader:
        """``GET /studies/{id}`` and its series: the main tags, modalities and counts."""
        study_id = self._checked(study_id)
        data = self._json(f"/studies/{study_id}")
        series = self._json(f"/studies/{study_id}/series")
        tags = data.get("MainDicomTags", {})
        patient = data.get("PatientMainDicomTags", {})
        modalities = sorted({s.get("MainDicomTags", {}).get("Modality", "") for s in series} - {""})
        return StudyHeader(
            orthanc_id=study_id,
            accession_number=tags.get("AccessionNumber", ""),
            study_date=tags.get("StudyDate", ""),
            study_description=tags.get("StudyDescription", ""),
            patient_id=patient.get("PatientID", ""),
            patient_name=patient.get("PatientName", ""),
            patient_birth_date=patient.get("PatientBirthDate", ""),
            modalities=tuple(modalities),
            series_count=len(series),
            instance_ids=tuple(i for s in series for i in s.get("Instances", []) if ORTHANC_ID.fullmatch(i)),
        )

    def download_archive(self, study_id: str, out, *, expected_instances: int | None = None) -> int:
        """``GET /studies/{id}/archive`` into the binary file ``out``; returns its size.

        Orthanc streams the ZIP without a length and ends it by closing the
        connection, so a restart mid-download looks like a clean end. The ZIP
        is therefore checked whole (its directory, every member's CRC, and the
        number of instances) before anyone may store it; a short one raises
        ``OrthancUnavailable`` like a refused connection.
        """
        return self._download(f"/studies/{self._checked(study_id)}/archive", out, expected_instances)

    def download_instances_archive(self, instance_ids: list[str], out) -> int:
        """``POST /tools/create-archive`` of these instances (images that came
        after their study was attached), checked like ``download_archive``."""
        ids = [self._checked(i) for i in instance_ids]
        return self._download("/tools/create-archive", out, len(ids), body=ids)

    def _download(self, path: str, out, expected_instances: int | None, body=None) -> int:
        with self._open(path, body) as response:
            try:
                size = _copy_body(response, out)
            except (OSError, http.client.HTTPException) as exc:
                where = path.split("/")[1]
                raise OrthancUnavailable(f"{where} archive: {type(exc).__name__} after download began") from None
        _check_archive(out, expected_instances)
        out.seek(0)
        return size


def _copy_body(response, out) -> int:
    """Copy the response to ``out`` in chunks (memory stays flat)."""
    size = 0
    while chunk := response.read(CHUNK_BYTES):
        out.write(chunk)
        size += len(chunk)
    return size


def _check_archive(fh, expected_instances: int | None):
    fh.seek(0)
    try:
        with zipfile.ZipFile(fh) as zf:
            members = [i for i in zf.infolist() if not i.is_dir()]
            bad = zf.testzip()
    except (zipfile.BadZipFile, EOFError, OSError, ValueError):
        raise OrthancUnavailable("archive incomplete: no ZIP directory") from None
    if bad is not None:
        raise OrthancUnavailable("archive damaged: a member failed its CRC")
    if expected_instances is not None and len(members) != expected_instances:
        raise OrthancUnavailable(f"archive holds {len(members)} of {expected_instances} instances")
    fh.seek(0)


def free_port() -> int:
    """A free TCP port on loopback, for a local or test Orthanc."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def orthanc_config(
    *,
    http_port: int,
    dicom_port: int,
    storage_dir: str,
    username: str,
    password: str,
    aet: str = "CLINIC",
    stable_age: int = 3,
    senders: dict[str, tuple[str, str, int]] | None = None,
) -> dict:
    """The Orthanc configuration the clinic runs (``manage.py orthanc_config``
    prints it; the tests start Orthanc with it).

    REST on loopback only with a password. Orthanc 1.10 has no bind address
    for its DICOM port, so C-STORE is accepted only from the modalities named
    in ``senders`` (AET, host, port), checked by AET and host.
    ``stable_age``: seconds without a new instance before a study counts as
    complete ("StableStudy" in the change feed); Orthanc's default is 60.
    """
    return {
        "Name": "clinic-dicom-node",
        "StorageDirectory": storage_dir,
        "IndexDirectory": storage_dir,
        "HttpPort": http_port,
        "DicomPort": dicom_port,
        "DicomAet": aet,
        "DicomCheckCalledAet": True,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": True,
        "RegisteredUsers": {username: password},
        "StableAge": stable_age,
        "Plugins": [],
        "SaveJobs": False,
        "HttpThreadsCount": 8,
        "DicomAlwaysAllowEcho": True,
        "DicomAlwaysAllowStore": False,
        "DicomCheckModalityHost": True,
        "DicomModalities": {name: list(v) for name, v in (senders or {}).items()},
        "SynchronousZipStream": True,
    }
