"""analysis/ and questionnaires/ stay importable without the web stack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

FORBIDDEN = ("flask", "flask_wtf", "flask_sqlalchemy", "wtforms", "sqlalchemy", "survey",
             "matplotlib.pyplot")


def test_analysis_and_questionnaires_import_without_flask_or_sqlalchemy() -> None:
    code = (
        "import json, sys\n"
        "import analysis, questionnaires\n"
        "questionnaires.load_all()\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    loaded = json.loads(result.stdout)
    leaked = [m for m in loaded if m.split(".")[0] in FORBIDDEN or m in FORBIDDEN]
    assert leaked == []


def test_a_web_worker_loads_neither_pandas_nor_matplotlib_until_it_needs_them(
        tmp_path: Path) -> None:
    """Each gunicorn worker imports the app: pandas and matplotlib (about 50 MB) wait for a
    file to read or a chart to draw."""
    code = "import json, sys\nimport wsgi\nprint(json.dumps(sorted(sys.modules)))\n"
    env = {**os.environ, "SURVEY_DATABASE_URL": f"sqlite:///{tmp_path / 'worker.db'}",
           "SURVEY_SECRET_KEY": "boundary-test-secret-0123456789"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=Path(__file__).resolve().parent.parent, env=env)
    loaded = {m.split(".")[0] for m in json.loads(result.stdout.splitlines()[-1])}
    assert "flask" in loaded
    assert loaded & {"pandas", "matplotlib", "numpy"} == set()
