"""Time the printed sheets of a batch: one PDF of 10 sheets, per shipped questionnaire.

    bench/sheets [--sheets N] [--questionnaire ID ...] [--out DIR]

Builds a throw-away SQLite database with one residential group, issues a batch of N sheets
(10 by default, one PDF part) of each questionnaire and prints the time ``write_sheets_pdf``
takes, the pages per sheet and the seconds per sheet. With --out, the PDFs are kept there.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from survey import create_app  # noqa: E402
from survey.extensions import db  # noqa: E402
from survey.services import paper, units  # noqa: E402
from survey.services.paper_forms import write_sheets_pdf  # noqa: E402
from survey.services.questionnaires import sync_questionnaires  # noqa: E402

QUESTIONNAIRES = ["sipas-dichvu", "sipas-chinhsach", "papi-phuong"]


def pages_of(path: Path) -> int | None:
    """Return the page count of a PDF (pdfinfo), or None without poppler."""
    try:
        info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True,
                              check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return next(int(line.split()[1]) for line in info.splitlines() if line.startswith("Pages:"))


def main() -> None:
    """Print the render time of one batch per questionnaire."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sheets", type=int, default=10)
    parser.add_argument("--questionnaire", action="append", default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        app = create_app({"SECRET_KEY": "bench-only-secret-key-0123456789",
                          "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.db",
                          "BASE_URL": "https://phuong.example.vn"})
        with app.app_context(), app.test_request_context():
            db.create_all()
            sync_questionnaires(Path(app.config["QUESTIONNAIRE_DIR"]))
            ward = units.create_unit("PHUONG", "Phường Trần Liễu", "ward", actor="bench")
            group = units.create_unit("TDP-01", "Tổ dân phố số 1", "group", parent=ward,
                                      actor="bench")
            db.session.commit()
            warm = paper.create_batch("mau-02", group, 1, leader=None, double_entry=False,
                                      actor="bench")
            write_sheets_pdf(warm, out / "warm.pdf", base_url=app.config["BASE_URL"])  # fonts
            for qid in args.questionnaire or QUESTIONNAIRES:
                batch = paper.create_batch(qid, group, args.sheets, leader=None,
                                           double_entry=False, actor="bench")
                db.session.commit()
                path = out / f"{qid}.pdf"
                start = time.perf_counter()
                write_sheets_pdf(batch, path, base_url=app.config["BASE_URL"])
                seconds = time.perf_counter() - start
                pages = pages_of(path)
                per_sheet = f"{pages / args.sheets:.1f}" if pages else "?"
                print(f"{qid:16} {args.sheets} sheets  {seconds:6.2f} s  "
                      f"{seconds / args.sheets:5.2f} s/sheet  {per_sheet} pages/sheet")


if __name__ == "__main__":
    main()
