"""A real Orthanc for the DICOM node's tests: its own process, free loopback
ports, a temporary configuration and storage, and dcmtk's storescu to send.

Skips only when Orthanc or storescu is not installed; `make test` and .ci/run
install Debian's orthanc and dcmtk, so on CI these tests always run.
"""

import json
import shutil
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from dicomnode.orthanc import OrthancClient, free_port, orthanc_config

SENDER_AET = "STORESCU"


@dataclass
class OrthancNode:
    binary: str
    storescu: str
    folder: Path
    username: str = "intake"
    password: str = "test-only-orthanc-pw"
    aet: str = "CLINIC"
    http_port: int = field(default_factory=free_port)
    dicom_port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def client(self) -> OrthancClient:
        return OrthancClient(self.url, self.username, self.password, timeout=10)

    def start(self):
        config = orthanc_config(
            http_port=self.http_port,
            dicom_port=self.dicom_port,
            storage_dir=str(self.folder / "storage"),
            username=self.username,
            password=self.password,
            aet=self.aet,
            stable_age=1,
            senders={"sender": (SENDER_AET, "127.0.0.1", 104)},
        )
        path = self.folder / "orthanc.json"
        path.write_text(json.dumps(config))
        log = open(self.folder / "orthanc.log", "ab")  # noqa: SIM115  (the process owns it until stop)
        self.process = subprocess.Popen([self.binary, str(path)], stdout=log, stderr=subprocess.STDOUT)
        log.close()
        request = urllib.request.Request(self.url + "/system")
        request.add_header("Authorization", self.client()._auth)
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(request, timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                tail = (self.folder / "orthanc.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"Orthanc did not start:\n{tail}")
            time.sleep(0.1)

    def stop(self, *, kill: bool = False):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.kill() if kill else self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)

    def send(self, files) -> None:
        """C-STORE with dcmtk's storescu, as an imaging centre would."""
        subprocess.run(
            [self.storescu, "-aet", SENDER_AET, "-aec", self.aet, "127.0.0.1", str(self.dicom_port), *map(str, files)],
            check=True,
            capture_output=True,
            timeout=120,
        )


@pytest.fixture
def orthanc(tmp_path, settings):
    binary, storescu = shutil.which("Orthanc"), shutil.which("storescu")
    if binary is None or storescu is None:
        pytest.skip("Orthanc or dcmtk's storescu is not installed (make test and .ci/run install orthanc and dcmtk)")
    folder = tmp_path / "orthanc"
    folder.mkdir()
    node = OrthancNode(binary=binary, storescu=storescu, folder=folder)
    node.start()
    settings.INTAKE_ORTHANC_URL = node.url
    settings.INTAKE_ORTHANC_USERNAME = node.username
    settings.INTAKE_ORTHANC_PASSWORD = node.password
    settings.INTAKE_ORTHANC_TIMEOUT = 10.0
    try:
        yield node
    finally:
        node.stop()
