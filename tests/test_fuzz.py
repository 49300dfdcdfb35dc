"""Issue 13: the schema-driven fuzz run of the API (schemathesis, every check) against the demo data served by
`make serve`'s 2-worker gunicorn: once with a partner's API key and once anonymous, throttling raised for the run
only. Reports (JUnit XML and the console log) are kept under test-results/. 0 server errors, 0 schema mismatches.

The two runs go at once, against one server. FUZZ_MAX_EXAMPLES sets the examples per
operation (default 200, as the hardening issue asks)."""

import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from projects.models import ApiKey

from .test_limits import BASE_DIR, gunicorn

RESULTS = BASE_DIR / "test-results"
CONFIG = Path(__file__).resolve().parent / "fuzz" / "schemathesis.toml"
EXAMPLES = os.environ.get("FUZZ_MAX_EXAMPLES", "200")


def fuzz(port, name, *headers):
    RESULTS.mkdir(exist_ok=True)
    command = [
        str(BASE_DIR / ".venv/bin/schemathesis"),
        "--config-file",
        str(CONFIG),
        "run",
        f"http://127.0.0.1:{port}/api/v1/schema/",
        "--url",
        f"http://127.0.0.1:{port}",
        "--checks",
        "all",
        "--max-examples",
        EXAMPLES,
        "--workers",
        "1",
        "--seed",
        "13",
        "--report",
        "junit",
        "--report-junit-path",
        str(RESULTS / f"fuzz-{name}.xml"),
        "--no-color",
    ]
    for header in headers:
        command += ["--header", header]
    # About 3 s per example per operation on a busy 2-core machine, with room to spare.
    run = subprocess.run(command, cwd=BASE_DIR, capture_output=True, text=True, timeout=600 + 15 * int(EXAMPLES))
    RESULTS.mkdir(exist_ok=True)  # again: another pytest session (pytest-playwright) may have emptied it meanwhile
    (RESULTS / f"fuzz-{name}.txt").write_text(run.stdout + run.stderr)
    return run


@pytest.mark.django_db(transaction=True)
def test_the_api_survives_a_schema_driven_fuzz_run_with_a_partner_key_and_anonymously(reference_data, settings):
    settings.DEBUG = True  # load_demo refuses to write known passwords with DEBUG off; the server runs with it off
    call_command("load_demo", verbosity=0)
    settings.DEBUG = False
    partner = User.objects.get(username="socio")
    _key, raw = ApiKey.issue(
        "Fuzz", created_by=User.objects.get(username="coordinador"), organization=partner.organizations.first()
    )
    callers = {"partner": [f"Authorization: Api-Key {raw}"], "anonymous": []}
    with gunicorn(API_RATE_KEY="1000000/min", API_RATE_ANON="1000000/min") as port:
        with ThreadPoolExecutor(max_workers=2) as pool:  # both runs at once: the machine's two cores
            runs = dict(zip(callers, pool.map(lambda name: fuzz(port, name, *callers[name]), callers), strict=True))
    for name, run in runs.items():
        assert run.returncode == 0, f"{name}: see test-results/fuzz-{name}.txt\n" + run.stdout[-3000:]
        assert "5xx" not in run.stdout.split("SUMMARY")[-1] and "Server error" not in run.stdout
