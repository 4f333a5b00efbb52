"""Charts render as PNG and SVG, with Vietnamese text, without pyplot."""

from __future__ import annotations

import json
import struct
import subprocess
import sys

from analysis.charts import (
    figure_to_png,
    figure_to_svg,
    group_bar_chart,
    period_label,
    trend_chart,
)
from analysis.scoring import counts_of, summarize
from tests.analysis.schemes import PAPI, PAPI_BEST, PAPI_WORST, SIPAS_DICHVU, SIPAS_EXAMPLE

TITLE = "Tỷ lệ hài lòng theo yếu tố – Phường Trần Liễu"


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_group_bar_chart_png_has_the_expected_size() -> None:
    summary = summarize(SIPAS_DICHVU, counts_of(SIPAS_DICHVU, SIPAS_EXAMPLE))
    fig = group_bar_chart(summary, target=80.0, title=TITLE)
    data = figure_to_png(fig)
    width_in, height_in = fig.get_size_inches()
    assert png_size(data) == (round(width_in * 110), round(height_in * 110))
    assert 650 <= png_size(data)[0] <= 750  # readable at ~700 px
    assert len(data) > 5_000
    assert png_size(figure_to_png(fig, dpi=200))[0] == round(width_in * 200)


def test_group_bar_chart_svg_keeps_vietnamese_text() -> None:
    summary = summarize(SIPAS_DICHVU, counts_of(SIPAS_DICHVU, SIPAS_EXAMPLE))
    svg = figure_to_svg(group_bar_chart(summary, target=80.0, title=TITLE)).decode("utf-8")
    assert svg.lstrip().startswith("<?xml")
    assert TITLE in svg
    assert "Tỷ lệ hài lòng (%)" in svg
    assert "58,3\u00a0%" in svg  # E1 = 175/3, with a decimal comma
    assert "không đủ dữ liệu" in svg  # E4 and E5 have no data
    assert "Mục tiêu 80\u00a0%" in svg
    assert "(n = 3)" in svg


def test_svg_is_deterministic() -> None:
    summary = summarize(SIPAS_DICHVU, counts_of(SIPAS_DICHVU, SIPAS_EXAMPLE))
    first = figure_to_svg(group_bar_chart(summary, title=TITLE))
    fig = group_bar_chart(summary, title=TITLE)
    assert figure_to_svg(fig) == first
    assert figure_to_svg(fig) == first


def test_group_bar_chart_of_a_papi_summary() -> None:
    summary = summarize(PAPI, counts_of(PAPI, [PAPI_BEST, PAPI_WORST]))
    svg = figure_to_svg(group_bar_chart(summary, title="Chỉ số PAPI")).decode("utf-8")
    assert "Điểm (1–10)" in svg
    assert "5,50" in svg  # each dimension 5.5
    assert png_size(figure_to_png(group_bar_chart(summary)))[0] > 0


def test_trend_chart_with_a_gap() -> None:
    points = [("2025-01", 82.5, 40), ("2025-02", None, 3), ("2025-03", 79.1, 55)]
    fig = trend_chart(points, target=80.0, title="Chỉ số hài lòng theo tháng")
    svg = figure_to_svg(fig).decode("utf-8")
    assert "Chỉ số hài lòng theo tháng" in svg
    assert "82,5\u00a0%" in svg
    assert "02/2025" in svg
    assert "n = 3" in svg
    width, _ = png_size(figure_to_png(fig))
    assert 650 <= width <= 750


def test_trend_chart_without_points_and_with_many() -> None:
    assert "Chưa có dữ liệu" in figure_to_svg(trend_chart([])).decode("utf-8")
    many = [(f"{2024 + i // 12}-{i % 12 + 1:02d}", 70.0 + i / 2, 10 + i) for i in range(30)]
    assert png_size(figure_to_png(trend_chart(many)))[0] > 0
    papi = figure_to_svg(trend_chart([("2025-Q1", 41.2, 80)], index="papi")).decode("utf-8")
    assert "Q1/2025" in papi
    assert "Điểm chỉ số" in papi


def test_period_labels() -> None:
    assert period_label("2025-03") == "03/2025"
    assert period_label("2025-Q2") == "Q2/2025"
    assert period_label("QT01") == "QT01"


def test_charts_do_not_load_pyplot() -> None:
    code = ("import json, sys\n"
            "from analysis import charts\n"
            "from matplotlib.figure import Figure\n"
            "charts.figure_to_png(charts.trend_chart([('2025-01', 80.0, 10)]))\n"
            "print(json.dumps(sorted(sys.modules)))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    loaded = json.loads(result.stdout)
    assert "matplotlib.pyplot" not in loaded
    assert not [m for m in loaded if m.split(".")[0] in ("flask", "sqlalchemy", "survey")]
