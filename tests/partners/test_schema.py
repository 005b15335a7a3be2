"""The committed OpenAPI schema matches the code, and schemathesis runs it
against the live API: no server error, no response outside the schema."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

from partners.models import Partner

from .conftest import REFERRAL, auth, make_key, make_partner

COMMITTED = Path(__file__).resolve().parents[2] / "partners" / "openapi.yaml"


def test_the_committed_schema_is_current(tmp_path):
    fresh = tmp_path / "openapi.yaml"
    call_command("spectacular", "--file", str(fresh), "--validate", "--fail-on-warn")
    assert fresh.read_text() == COMMITTED.read_text(), (
        "partners/openapi.yaml is stale: run `python manage.py spectacular --file partners/openapi.yaml` and commit it"
    )


def test_the_schema_is_served(client, db):
    response = client.get("/api/v1/schema/")
    assert response.status_code == 200
    assert b"/api/v1/referrals/" in response.content and b"ApiKey" in response.content


def test_schemathesis_finds_no_server_error_and_no_response_outside_the_schema(live_server, seeded_tx, settings):
    settings.INTAKE_API_RATE_LIMIT = "100000/min"
    partner = make_partner("Clinic EHR", kind=Partner.Kind.EHR)
    full = make_key(partner)[1]
    # One real referral, so reads and exports also meet a case that exists.
    from django.test import Client

    created = Client().post("/api/v1/referrals/", REFERRAL, content_type="application/json", **auth(full))
    assert created.status_code == 201
    checks = ",".join(
        [
            "not_a_server_error",
            "status_code_conformance",
            "content_type_conformance",
            "response_headers_conformance",
            "response_schema_conformance",
        ]
    )
    result = subprocess.run(  # noqa: S603  (our own venv's schemathesis, fixed arguments)
        [
            str(Path(sys.executable).with_name("schemathesis")),
            "run",
            f"{live_server.url}/api/v1/schema/",
            "--checks",
            checks,
            "--header",
            f"Authorization: Bearer {full}",
            "--max-examples",
            "30",
            "--seed",
            "17",
            "--workers",
            "1",
            "--generation-database",
            "none",
            "--phases",
            "examples,coverage,fuzzing",
            "--no-color",
            "--request-timeout",
            "30",
        ],
        capture_output=True,
        text=True,
        timeout=540,
    )
    output = result.stdout + result.stderr
    print(output[-4000:])  # shown with -s or on failure
    assert result.returncode == 0, output[-6000:]
    paths = yaml.safe_load(COMMITTED.read_text())["paths"]
    operations = sum(
        1 for ops in paths.values() for method in ops if method in ("get", "post", "put", "patch", "delete")
    )
    assert f"Tested: {operations}" in output, output[-3000:]  # every operation of the schema ran
    counts = re.search(r"(\d+) generated, (\d+) passed", output)
    assert counts and counts.group(1) == counts.group(2) and int(counts.group(1)) > 100, output[-3000:]
    assert "FAILURES" not in output and "failed" not in output.split("SUMMARY")[-1], output[-6000:]


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
