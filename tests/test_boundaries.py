"""analysis/ and questionnaires/ stay importable without the web stack."""

from __future__ import annotations

import json
import subprocess
import sys

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
