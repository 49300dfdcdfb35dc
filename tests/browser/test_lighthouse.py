"""Lighthouse (the checker browsers ship) on one page of each public kind: 100 in accessibility, best practices and
SEO. Runs the npm package `lighthouse` (package.json) against the live server in Debian's Chromium."""

import json
import os
import subprocess
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
LIGHTHOUSE = Path("node_modules/lighthouse/cli/index.js")
CATEGORIES = ["accessibility", "best-practices", "seo"]
CHROME_FLAGS = (
    "--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --disable-background-networking "
    "--disable-component-update --disable-sync --no-first-run"
)


def shortfalls(url, report_path):
    """'category score: failing audits' for each category below 100 on `url`."""
    result = subprocess.run(
        [
            "node",
            str(LIGHTHOUSE),
            url,
            "--quiet",
            "--output=json",
            f"--output-path={report_path}",
            f"--only-categories={','.join(CATEGORIES)}",
            f"--chrome-flags={CHROME_FLAGS}",
        ],
        env={**os.environ, "CHROME_PATH": "/usr/bin/chromium"},
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(Path(report_path).read_text())
    found = []
    for name, category in report["categories"].items():
        if category["score"] is not None and category["score"] < 1:
            failing = [
                ref["id"]
                for ref in category["auditRefs"]
                if ref["weight"] and (report["audits"][ref["id"]]["score"] or 0) < 1
            ]
            found.append(f"{url} {name} {round(category['score'] * 100)}: {failing}")
    return found


def test_one_page_of_each_public_kind_scores_100(live_server, published_project, org_a, tmp_path):
    pages = [
        "/",
        "/proyectos/",
        published_project.get_absolute_url(),
        "/ejes/corresponsabilidad-ciudadana/",
        org_a.get_absolute_url(),
    ]
    found = []
    for n, path in enumerate(pages):
        found += shortfalls(live_server.url + path, tmp_path / f"report{n}.json")
    assert found == []
