"""Print the weight of each citizen form page: raw, gzip and brotli, as the app serves it.

    .venv/bin/python bench/form_weight.py

The browser test (tests/test_browser.py) checks the real figure in Chromium against the 14 KB
budget (what TCP's first flight carries); this bench shows every shipped questionnaire and how
the bytes split, so a change to a template or questionnaire can be weighed before it lands.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from survey import create_app  # noqa: E402
from survey.extensions import db  # noqa: E402
from survey.services import units  # noqa: E402
from survey.services.questionnaires import (  # noqa: E402
    latest_questionnaires,
    sync_questionnaires,
)

BUDGET = 14 * 1024


def main() -> None:
    """Render each questionnaire's form and print its sizes."""
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(tmp) / 'b.db'}",
                          "SECRET_KEY": "bench-secret-0123456789", "RATELIMIT_ENABLED": False})
        with app.app_context():
            db.create_all()
            sync_questionnaires(Path(app.config["QUESTIONNAIRE_DIR"]))
            ward = units.create_unit("P", "Phường Trần Liễu", "ward")
            unit = units.create_unit("Q", "Trung tâm Phục vụ hành chính công - Quầy Chứng thực",
                                     "counter", parent=ward)
            links = {q.id: units.ensure_link(unit, q.id).code for q in latest_questionnaires()}
            db.session.commit()
        client = app.test_client()
        print(f"{'questionnaire':<16}{'raw':>9}{'gzip':>9}{'br':>9}{'render ms':>11}  budget")
        for qid, code in sorted(links.items()):
            sizes = {}
            for encoding in ("identity", "gzip", "br"):
                started = time.perf_counter()
                response = client.get(f"/s/{code}", headers={"Accept-Encoding": encoding})
                elapsed = (time.perf_counter() - started) * 1000
                sizes[encoding] = len(response.data)
            verdict = "ok" if sizes["gzip"] <= BUDGET else "OVER"
            print(f"{qid:<16}{sizes['identity']:>9}{sizes['gzip']:>9}{sizes['br']:>9}"
                  f"{elapsed:>11.1f}  {verdict} ({BUDGET} bytes)")


if __name__ == "__main__":
    main()
