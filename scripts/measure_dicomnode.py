#!/usr/bin/env python
"""How long from storescu to "attached to the case", as `make run` would do it
with the DICOM node on: a real Orthanc (StableAge 3 s, from
``manage.py orthanc_config``'s defaults), Celery beat sending the 10 s poll
and one worker, on SQLite and the embedded broker in a temporary folder.

    .venv/bin/python scripts/measure_dicomnode.py --studies 3

Prints one line per study (send start -> the study's row is ATTACHED) and the
largest. Synthetic patients and noise pixels only (tests/dicomnode/dicomdata.py).
"""

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PY = str(ROOT / ".venv" / "bin" / "python")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--studies", type=int, default=3)
    parser.add_argument("--slices", type=int, default=20)
    args = parser.parse_args()
    for tool in ("Orthanc", "storescu"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed: apt-get install -y orthanc dcmtk")

    from dicomnode.orthanc import free_port, orthanc_config
    from tests.dicomnode.dicomdata import write_mr_series

    work = Path(tempfile.mkdtemp(prefix="dicomnode-measure-"))
    http_port, dicom_port, password = free_port(), free_port(), "measure-only-pw"
    config = orthanc_config(
        http_port=http_port,
        dicom_port=dicom_port,
        storage_dir=str(work / "orthanc"),
        username="intake",
        password=password,
        senders={"measure": ("STORESCU", "127.0.0.1", 104)},
    )
    (work / "orthanc.json").write_text(json.dumps(config))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "clinic.settings.local",
        "INTAKE_VAR_DIR": str(work / "var"),
        "INTAKE_PRIVATE_ROOT": str(work / "var" / "private"),
        "INTAKE_ORTHANC_URL": f"http://127.0.0.1:{http_port}",
        "INTAKE_ORTHANC_USERNAME": "intake",
        "INTAKE_ORTHANC_PASSWORD": password,
    }
    for name in ("DATABASE_URL", "CELERY_BROKER_URL"):
        env.pop(name, None)
    (work / "var" / "log").mkdir(parents=True)
    processes = []
    ok = False

    def start(cmd, log):
        with open(work / "var" / "log" / log, "ab") as fh:
            processes.append(subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT))

    try:
        subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
        make_cases = (
            "from tests.factories import CaseFactory\n"
            f"for _ in range({args.studies}): print('REF', CaseFactory(status='awaiting_mri').reference)"
        )
        out = subprocess.run(
            [PY, "manage.py", "shell", "-c", make_cases], cwd=ROOT, env=env, check=True, capture_output=True, text=True
        )
        references = [line.split()[1] for line in out.stdout.splitlines() if line.startswith("REF ")]
        start(["Orthanc", str(work / "orthanc.json")], "orthanc.log")
        celery = str(ROOT / ".venv" / "bin" / "celery")
        start([celery, "-A", "clinic", "worker", "-Q", "urgent,routine", "-c", "1", "-l", "WARNING"], "worker.log")
        start([celery, "-A", "clinic", "beat", "-l", "WARNING", "-s", str(work / "var" / "beat")], "beat.log")
        wait_for_orthanc(http_port, password)
        time.sleep(5)  # let the worker and beat settle before the first send
        db = sqlite3.connect(work / "var" / "db.sqlite3", timeout=20)
        figures = []
        for i, reference in enumerate(references):
            files, _ = write_mr_series(
                work / f"study{i}",
                patient_name=f"MEASURE^PATIENT{i}",
                accession=reference,
                slices=args.slices,
                size=256,
                seed=i,
            )
            sent = time.monotonic()
            subprocess.run(
                ["storescu", "-aet", "STORESCU", "-aec", "CLINIC", "127.0.0.1", str(dicom_port), *map(str, files)],
                check=True,
                capture_output=True,
            )
            while True:
                row = db.execute(
                    "SELECT rs.state FROM dicomnode_receivedstudy rs JOIN intake_reviewrequest c ON rs.case_id = c.id"
                    " WHERE c.reference = ?",
                    (reference,),
                ).fetchone()
                if row and row[0] == "attached":
                    break
                if time.monotonic() - sent > 120:
                    sys.exit(f"study {i}: not attached after 120 s; see {work}/var/log")
                time.sleep(0.1)
            figures.append(time.monotonic() - sent)
            print(f"study {i + 1} ({args.slices} slices of 256 x 256): storescu -> attached in {figures[-1]:.1f} s")
            time.sleep(3)  # the next study lands at another point of the 10 s beat cycle
        print(f"largest: {max(figures):.1f} s (StableAge 3 s + up to one 10 s beat period + fetch and store)")
        ok = True
    finally:
        for p in processes:
            p.terminate()
        for p in processes:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        if ok:
            shutil.rmtree(work, ignore_errors=True)


def wait_for_orthanc(port: int, password: str):
    from dicomnode.orthanc import OrthancClient, OrthancUnavailable

    client = OrthancClient(f"http://127.0.0.1:{port}", "intake", password, timeout=2)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            client.changes(since=0, limit=1)
            return
        except OrthancUnavailable:
            time.sleep(0.2)
    sys.exit("Orthanc did not start")


if __name__ == "__main__":
    main()
