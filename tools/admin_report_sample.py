"""Write a realistic sample of the ward's báo cáo (Nghị định 30/2020/NĐ-CP layout) as DOCX.

    .venv/bin/python tools/admin_report_sample.py OUT.docx

For people (and tests) to look at: convert it with
``soffice --headless --convert-to pdf OUT.docx`` and ``pdftoppm -r 70 -png OUT.pdf page``.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from survey.reporting.admin_report import (  # noqa: E402
    AdminReport,
    Paragraph,
    Placeholder,
    Section,
    Signature,
    Table,
    write_docx,
)


def sample_report() -> AdminReport:
    """Return the Quý IV/2025 report of Phường Trần Liễu, Hải Phòng, with made-up figures."""
    elements = Table(
        caption="Bảng 1. Mức độ hài lòng theo từng yếu tố",
        columns=["STT", "Yếu tố", "Số phiếu", "Hài lòng (%)", "Chỉ số (%)"],
        rows=[
            ["1", "Tiếp cận dịch vụ", "412", "88,3", "86,1"],
            ["2", "Thủ tục hành chính", "412", "84,7", "83,0"],
            ["3", "Công chức trực tiếp giải quyết công việc", "409", "91,2", "89,4"],
            ["4", "Kết quả cung ứng dịch vụ", "410", "87,6", "85,9"],
            ["5", "Tiếp nhận, xử lý góp ý, phản ánh, kiến nghị", "398", "79,9", "78,2"],
            ["6", "Chuyển đổi số trong cung ứng dịch vụ", "405", "82,5", "80,7"],
        ],
        widths_cm=[1.2, 7.3, 2.4, 2.8, 2.8],
        numeric={2, 3, 4},
    )
    comparison = Table(
        caption="Bảng 2. So sánh với kỳ trước",
        columns=["Chỉ số", "Quý III/2025", "Quý IV/2025", "Tăng, giảm"],
        rows=[
            ["Chỉ số hài lòng chung (%)", "83,6", "84,9", "+1,3"],
            ["Số phiếu hợp lệ", "376", "412", "+36"],
            ["Tỷ lệ phiếu trực tuyến (%)", "41,0", "47,3", "+6,3"],
        ],
        widths_cm=[7.0, 3.1, 3.1, 3.1],
        numeric={1, 2, 3},
    )
    return AdminReport(
        upper_authority="UBND THÀNH PHỐ HẢI PHÒNG",
        issuer="ỦY BAN NHÂN DÂN PHƯỜNG TRẦN LIỄU",
        number="",
        place="Trần Liễu",
        issued_on=date(2026, 1, 5),
        title="Kết quả khảo sát sự hài lòng của người dân, tổ chức Quý IV/2025",
        basis=[
            "Căn cứ Nghị định số 30/2020/NĐ-CP ngày 05 tháng 3 năm 2020 của Chính phủ về "
            "công tác văn thư;",
            "Căn cứ Kế hoạch cải cách hành chính năm 2025 của Ủy ban nhân dân phường Trần Liễu;",
            "Căn cứ kết quả thu thập phiếu khảo sát trên hệ thống trong Quý IV/2025.",
        ],
        intro="Ủy ban nhân dân phường Trần Liễu báo cáo kết quả như sau:",
        sections=[
            Section(
                heading="I. KẾT QUẢ KHẢO SÁT",
                subsections=[
                    Section(
                        heading="1. Thông tin chung",
                        blocks=[Paragraph(
                            "Trong Quý IV/2025, phường đã thu được 412 phiếu khảo sát hợp lệ "
                            "của người dân, tổ chức đến giao dịch tại Bộ phận Một cửa, trong đó "
                            "195 phiếu trực tuyến qua mã QR và 217 phiếu giấy được nhập lại."
                        )],
                    ),
                    Section(
                        heading="2. Chỉ số hài lòng theo từng yếu tố",
                        blocks=[
                            Paragraph("Chỉ số hài lòng chung đạt 84,9%; kết quả theo từng yếu "
                                      "tố được tổng hợp tại Bảng 1."),
                            elements,
                        ],
                    ),
                ],
            ),
            Section(
                heading="II. SO SÁNH VỚI KỲ TRƯỚC",
                blocks=[
                    Paragraph("So với Quý III/2025, chỉ số hài lòng chung tăng 1,3 điểm phần "
                              "trăm; số phiếu hợp lệ tăng 36 phiếu."),
                    comparison,
                ],
            ),
            Section(
                heading="III. ĐÁNH GIÁ CHUNG",
                subsections=[
                    Section(heading="1. Tồn tại, hạn chế", blocks=[
                        Placeholder("Đơn vị điền: nêu những tồn tại, hạn chế")]),
                    Section(heading="2. Nguyên nhân", blocks=[
                        Placeholder("Đơn vị điền: nêu nguyên nhân khách quan, chủ quan")]),
                ],
            ),
            Section(heading="IV. GIẢI PHÁP TRONG THỜI GIAN TỚI", blocks=[
                Placeholder("Đơn vị điền: nêu các giải pháp nâng cao sự hài lòng")]),
            Section(heading="V. KIẾN NGHỊ, ĐỀ XUẤT", blocks=[
                Placeholder("Đơn vị điền: kiến nghị, đề xuất với UBND thành phố, các sở")]),
        ],
        recipients=[
            "- UBND thành phố Hải Phòng;",
            "- Sở Nội vụ;",
            "- TT Đảng ủy, HĐND phường;",
            "- Lưu: VT, VHXH.",
        ],
        signature=Signature(authority="TM. ỦY BAN NHÂN DÂN", title="CHỦ TỊCH",
                            name="Nguyễn Văn A"),
    )


def main(argv: list[str]) -> int:
    """Write the sample to the path given on the command line."""
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    out = Path(argv[1])
    out.write_bytes(write_docx(sample_report()))
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
