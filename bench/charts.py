"""Time of the dashboard's charts over the demo data (issue: "a chart of the demo data renders
in under 0.2 s").

    bench/charts [--runs 5]

Builds the demo (``init-db --demo``) in a temporary SQLite database, opens each
questionnaire's dashboard page as an admin through Flask's test client, then asks for each
chart (groups, trend) ``--runs`` times and prints the median and the fastest. A chart asked for
after its page is drawn from the numbers the page computed (staff/dashboard.py); the first
line of each questionnaire is the page itself.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "mùa thu lá vàng rơi trên phố"  # noqa: S105 - a throwaway database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from survey import create_app
    from survey.extensions import db
    from survey.services import accounts
    from survey.services.questionnaires import latest_questionnaires

    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/demo.db",
                          "SECRET_KEY": "bench-secret-0123456789abcdef", "TESTING": True,
                          "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})
        result = app.test_cli_runner().invoke(args=["init-db", "--demo"])
        assert result.exit_code == 0, result.output
        with app.app_context():
            accounts.create_user("chartbench", PASSWORD, "admin", actor="bench")
            db.session.commit()
            ids = [q.id for q in latest_questionnaires()]
        client = app.test_client()
        client.post("/login", data={"username": "chartbench", "password": PASSWORD})
        print("| questionnaire | what | median | fastest |")
        print("|---|---|---|---|")
        for qid in ids:
            started = time.perf_counter()
            page = client.get(f"/staff/?questionnaire={qid}")
            print(f"| {qid} | the dashboard page | {time.perf_counter() - started:.3f} s | |")
            assert page.status_code == 200
            for kind in ("groups", "trend"):
                times = []
                for _ in range(args.runs):
                    started = time.perf_counter()
                    chart = client.get(f"/staff/charts/{kind}.png?questionnaire={qid}")
                    times.append(time.perf_counter() - started)
                    assert chart.status_code == 200
                    assert chart.data.startswith(b"\x89PNG")
                print(f"| {qid} | chart {kind} | {statistics.median(times):.3f} s "
                      f"| {min(times):.3f} s |")


if __name__ == "__main__":
    main()
