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


ROOT = Path(__file__).resolve().parent.parent
# The web stack: reporting gets the session, the settings and its templates passed in.
WEB = ("flask", "flask_babel", "flask_login", "flask_wtf", "flask_sqlalchemy", "flask_limiter",
       "werkzeug", "survey.extensions", "survey.templating", "survey.i18n", "survey.labels")


def _imports(path: Path, package: str) -> set[str]:
    """Return every module a file imports, at the top or inside a function, resolved."""
    import ast

    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _survey_modules() -> dict[str, Path]:
    modules = {}
    for path in (ROOT / "survey").rglob("*.py"):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        modules[name.removesuffix(".__init__")] = path
    return modules


def _package_of(name: str, path: Path) -> str:
    return name if path.name == "__init__.py" else name.rsplit(".", 1)[0]


def test_nothing_under_reporting_imports_the_web_stack() -> None:
    """survey/reporting/ runs in a job or a script as in a request: no Flask inside."""
    offenders = {}
    for name, path in _survey_modules().items():
        if not name.startswith("survey.reporting"):
            continue
        web = sorted(m for m in _imports(path, _package_of(name, path))
                     if any(m == w or m.startswith(w + ".") for w in WEB))
        text = path.read_text(encoding="utf-8")
        if "current_app" in text or "render_template" in text:
            web.append("current_app/render_template")
        if web:
            offenders[name] = web
    assert offenders == {}
    assert (ROOT / "survey" / "reporting" / "xlsx.py").exists()  # the boundary guards something


def test_the_app_has_no_import_cycle() -> None:
    """No module of survey/ imports, even inside a function, one that imports it back."""
    modules = _survey_modules()
    graph = {name: {m for m in _imports(path, _package_of(name, path))
                    if m in modules and m != name} for name, path in modules.items()}
    cycles = []
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    assert len(graph) > 50
    assert cycles == []
