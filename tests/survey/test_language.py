"""Every page a person reads in the Vietnamese interface is in Vietnamese, data aside.

Each page's visible text (and the attribute texts people read) is taken from the HTML, known
data is removed (names, codes, receipts, numbers, dates, addresses: as whole words or whole
text nodes, and whatever sits in a ``<code>`` span), and what is left must hold no English
word: a word of our English catalogue that is not in any Vietnamese msgid, of WTForms' own
messages, of the command line's English import reasons, or a common English word (the, must,
error ...). A question is named as the questionnaire numbers it ("Câu 15"), never by its id
``q15`` in the text people read (ids in name/id/for attributes are not read).
"""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

import pytest
import sqlalchemy as sa
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient

from survey.extensions import db
from survey.models import CHANNELS, Batch, SurveyLink, Unit, User
from survey.services import audit, integrity, paper, units
from survey.services.problems import REASONS
from survey.services.questionnaires import get_questionnaire
from survey.services.submissions import save_response
from tests.conftest import login, sipas_answers
from tests.survey.test_staff import staff_rules

ROOT = Path(__file__).resolve().parents[2]
WORD = re.compile(r"[A-Za-z]+(?:'[a-z]+)?")
# A whole word, Vietnamese letters included: "toàn" is one word, not the English "to" + "n".
WHOLE_WORD = re.compile(r"[^\W\d_]+(?:'[a-z]+)?")
ASCII_WORD = re.compile(r"[A-Za-z]+(?:'[a-z]+)?")
QUESTION_ID = re.compile(r"(?<!cột )\bq\d+\b")
"""A question's id in the text people read ("cột q21" names a column of the person's file)."""

COMMON_ENGLISH = frozenset((
    "the", "and", "of", "to", "is", "are", "not", "must", "cannot", "can't", "please", "field",
    "fields", "required", "invalid", "unknown", "error", "errors", "row", "rows", "column",
    "columns", "this", "that", "with", "for", "from", "should", "be", "has", "have", "was",
    "were", "missing", "value", "values", "line", "sheet", "saved", "failed", "yes"))
"""English words no Vietnamese page has, whether or not our catalogue uses them."""


def _words(text: str) -> set[str]:
    return {w.lower() for w in WORD.findall(text)}


@cache
def english_words() -> frozenset[str]:
    """Words that are English and not Vietnamese: from our catalogue and WTForms."""
    import wtforms

    with (ROOT / "survey/translations/en/LC_MESSAGES/messages.po").open("rb") as f:
        catalog = read_po(f)
    vietnamese: set[str] = set()
    english: set[str] = set()
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strs = message.string if isinstance(message.string, tuple) else (message.string,)
        vietnamese |= set().union(*(_words(re.sub(r"%\(\w+\)\w", " ", i)) for i in ids))
        english |= set().union(*(_words(re.sub(r"%\(\w+\)\w", " ", s or "")) for s in strs))
    pot = Path(wtforms.__file__).parent / "locale" / "wtforms.pot"
    with pot.open("rb") as f:
        for message in read_po(f):
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            english |= set().union(*(_words(re.sub(r"%\(\w+\)\w", " ", i)) for i in ids))
    for words, _vi in REASONS.values():  # the command line's English
        english |= _words(re.sub(r"%\(\w+\)\w", " ", words))
    # Words that are also Vietnamese syllables, or names of formats and programs
    vietnamese |= {"a", "an", "in", "do", "to", "the", "ban", "qr", "pdf", "csv", "xlsx", "json",
                   "api", "excel", "uuid", "iso", "utf", "id", "ok", "email"}
    return frozenset(english - vietnamese)


class _Text(HTMLParser):
    """Collect the text a person reads: element text and a few attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.attributes: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # What no one reads (scripts), and what is shown as data (a code span: an id, a command)
        if tag in ("script", "style", "template", "code"):
            self._skip += 1
        found = dict(attrs)
        for name in ("placeholder", "title", "aria-label", "alt"):
            if found.get(name):
                self.attributes.append(str(found[name]))
        if tag == "input" and found.get("type") in ("submit", "button") and found.get("value"):
            self.parts.append(str(found["value"]))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template", "code") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


DATA_PATTERNS = [
    re.compile(r"https?://\S+"),
    re.compile(r"\b[\w.-]+\.[a-z]{2,}/\S*"),  # an address without its scheme
    re.compile(r"\S+@\S+"),
    re.compile(r"/[\w./?=&%-]+"),  # paths
    re.compile(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}\b"),  # receipts
    re.compile(r"\b\w*[_\d]\w*\b"),  # ids and codes: q15, response_id, TDP-1, 2026
    re.compile(r"\b[\w]+(?:-[\w]+)+\b"),  # hyphenated codes: sipas-dichvu
    re.compile(r"\.(?:csv|xlsx|pdf|png|svg|json)\b"),
]


def _without_data(parts: Iterable[str], data: Iterable[str]) -> str:
    """Join text nodes, leaving out those that are data and data items as whole words."""
    items = {d.strip() for d in data if d.strip()}
    text = "\n".join(p for p in parts if p.strip() not in items)
    for item in sorted(items, key=len, reverse=True):
        # "unit" goes, "units" and "community" stay whole for the English check
        text = re.sub(rf"(?<![\w-]){re.escape(item)}(?![\w-])", " ", text)
    return text


def english_in(html: str, data: Iterable[str] = ()) -> list[str]:
    """Return the English words (and question ids) of a page's visible text, data removed."""
    # What no one sees or hears: a bots' trap field is hidden from eyes and screen readers.
    html = re.sub(r'<(\w+)[^>]*aria-hidden="true"[^>]*>.*?</\1>', " ", html, flags=re.S)
    parser = _Text()
    parser.feed(html)
    data = list(data)
    text = _without_data(parser.parts, data)
    for pattern in DATA_PATTERNS[:4]:  # addresses, e-mails and paths may hold anything
        text = pattern.sub(" ", text)
    found = set(QUESTION_ID.findall(text))  # in the text itself, not in attributes
    text += "\n" + _without_data(parser.attributes, data)
    for pattern in DATA_PATTERNS:
        text = pattern.sub(" ", text)
    words = english_words()
    for word in WHOLE_WORD.findall(text):
        if ASCII_WORD.fullmatch(word) and (word.lower() in words
                                           or word.lower() in COMMON_ENGLISH):
            found.add(word)
    return sorted(found)


def test_the_checker_finds_english_and_spares_vietnamese_and_data() -> None:
    """The checker itself: English wording is found, Vietnamese and data are not."""
    assert {"This", "field", "required"} <= set(english_in("<p>This field is required.</p>"))
    assert english_in('<input placeholder="unknown unit">') == ["unknown"]
    assert english_in('<div aria-hidden="true"><label>URL <input></label></div>') == []
    assert english_in("<p>Xin điền ô này. Mã K7QF-3MZD, sipas-dichvu, 84,2 %</p>") == []
    assert english_in("<script>alert('Save failed')</script><p>Đã lưu.</p>") == []
    assert english_in("<p>Tổ dân phố Bình Minh</p>", data=["Bình Minh"]) == []
    # Common English words are found even when our catalogue has none of them.
    assert english_in("<p>Xin lỗi: the row is not ok, qwerty</p>") == [
        "is", "not", "row", "the"]
    # Data goes as whole words: it does not cut English words that hold it.
    assert english_in("<p>Paperwork errors</p>", data=["paper", "error"]) == ["errors"]
    assert english_in("<p>Đơn vị: TDP-3</p>", data=["TDP-3"]) == []
    # Vietnamese words are not read as pieces of English ones ("toàn" is not "to").
    assert english_in("<p>An toàn, thông tin đầy đủ, đúng hạn</p>") == []
    # A question is "Câu 15" in the text; its id may sit in attributes and code spans.
    assert english_in("<td>q15</td><b>q21</b>") == ["q15", "q21"]
    assert english_in('<label for="q15" title="q15">Câu 15</label><input name="q_q15" '
                      'id="q15"> <code>q15</code>') == []
    assert english_in("<li>Dòng 2, cột q21 (câu 21): mã “7” không hợp lệ</li>") == []


@pytest.fixture
def ward_data(app: Flask, admin_client: FlaskClient, link_code: str,
              make_user: Callable[..., User]) -> dict[str, object]:
    """Units, links, a leader, batches, responses, flags, excluded responses, audit entries."""
    link = db.session.scalars(sa.select(SurveyLink)).one()
    ward = db.session.scalars(sa.select(Unit).where(Unit.kind == "ward")).one()
    group = units.create_unit("TDP-3", "Tổ dân phố số 3", "group", parent=ward, actor="test")
    units.ensure_link(group, "sipas-dichvu", actor="test")
    leader = make_user("totruong", "leader", [group])
    make_user("canbo", "staff")
    batch = paper.create_batch("sipas-dichvu", group, 3, leader=leader, double_entry=True,
                               actor="test")
    questionnaire = get_questionnaire("sipas-dichvu")
    assert questionnaire is not None
    for hour in (1, 1, 1, 20):
        save_response(questionnaire, link.unit, "qr", uuid.uuid4(),
                      {f"q{i}": 1 for i in range(15, 34)} | {"y_kien": "Chờ lâu quá"},
                      link=link, submitted_at=datetime(2026, 3, 2, hour, tzinfo=UTC))
    integrity.scan()
    db.session.commit()
    units.update_unit(group, name="Tổ dân phố số 3 mới", active=True, parent=ward,
                      actor="quantri", opening_hours="T2-T6 07:30-11:30")
    audit.record("quantri", "response.exclude", "ABCD-EFGH", receipts=["ABCD-EFGH"],
                 reason="Phiếu thử của cán bộ")
    db.session.commit()
    return {"batch": batch, "leader": leader, "group": group, "link": link}


def _data_of(app: Flask) -> list[str]:
    """Names and codes people typed in, shown as data on pages."""
    names = [u.name for u in db.session.scalars(sa.select(Unit))]
    names += [u.code for u in db.session.scalars(sa.select(Unit))]
    names += [u.username for u in db.session.scalars(sa.select(User))]
    # Not the stored codes of roles, unit kinds and channels: pages show their labels.
    names += ["quantri", "test", "cli", "system"]
    return names


def _check(client: FlaskClient, url: str, known: list[str], *, method: str = "GET",
           **kwargs: object) -> tuple[int, list[str]]:
    """Open a page; return its status and the English words a person would read on it."""
    response = client.open(url, method=method, **kwargs)  # type: ignore[arg-type]
    if response.mimetype != "text/html" or 300 <= response.status_code < 400:
        response.close()  # a file, or a redirect that browsers follow unseen
        return response.status_code, []
    found = english_in(response.get_data(as_text=True), known)
    return response.status_code, found


def _assert_vietnamese(pages: dict[str, list[str]]) -> None:
    bad = {url: words for url, words in pages.items() if words}
    assert not bad, "English on Vietnamese pages:\n" + "\n".join(
        f"  {url}: {' '.join(words)}" for url, words in bad.items())


def test_every_staff_page_is_vietnamese(app: Flask, admin_client: FlaskClient,
                                        ward_data: dict[str, object],
                                        client: FlaskClient) -> None:
    data = _data_of(app)
    pages: dict[str, list[str]] = {}
    statuses: dict[str, int] = {}
    for method, url in staff_rules(app):
        if method == "GET":
            statuses[url], pages[f"admin {url}"] = _check(admin_client, url, data)
    assert len(statuses) >= 20
    assert set(statuses.values()) <= {200, 302}, statuses
    staff = app.test_client()
    login(staff, "canbo")
    leader = app.test_client()
    login(leader, "totruong")
    for who, other in (("staff", staff), ("leader", leader)):
        for method, url in staff_rules(app):
            if method == "GET":
                _status, pages[f"{who} {url}"] = _check(other, url, data)
    _assert_vietnamese(pages)


def test_public_pages_and_their_errors_are_vietnamese(app: Flask,
                                                      ward_data: dict[str, object]) -> None:
    data = _data_of(app)
    client = app.test_client()  # a citizen: not logged in
    link = ward_data["link"]
    assert isinstance(link, SurveyLink)
    pages: dict[str, list[str]] = {}
    for url in ("/", "/login", f"/s/{link.code}", "/s/khong-co", "/nope", "/staff/audit"):
        _status, pages[url] = _check(client, url, data)
    answers = sipas_answers()
    status, pages["submit"] = _check(client, f"/s/{link.code}", data, method="POST",
                                     data=answers, follow_redirects=True)
    assert status == 200
    status, pages["conflict 409"] = _check(
        client, f"/s/{link.code}", data, method="POST",
        data=sipas_answers(q_q15="1", response_id=answers["response_id"]))
    assert status == 409
    status, pages["missing answer"] = _check(client, f"/s/{link.code}", data, method="POST",
                                             data=sipas_answers(q_q15=None))
    assert status == 400
    status, pages["bad code"] = _check(client, f"/s/{link.code}", data, method="POST",
                                       data=sipas_answers(q_q15="9"))
    assert status == 400
    status, pages["bad login"] = _check(client, "/login", data, method="POST",
                                        data={"username": "", "password": "x"})
    _assert_vietnamese(pages)


def _upload(client: FlaskClient, name: str, content: bytes) -> object:
    return {"questionnaire": "sipas-dichvu", "channel": "paper", "unit": "",
            "file": (io.BytesIO(content), name)}


def test_staff_error_paths_are_vietnamese(app: Flask, admin_client: FlaskClient,
                                          ward_data: dict[str, object]) -> None:
    data = _data_of(app)
    batch = ward_data["batch"]
    assert isinstance(batch, Batch)
    serial = paper.format_serial(batch.sheets[0].serial)
    posts: list[tuple[str, str, dict[str, object], int]] = [
        ("unit: empty name", "/staff/units", {"code": "OK1", "name": "", "kind": "group"}, 400),
        ("unit: exists", "/staff/units", {"code": "TDP-3", "name": "X", "kind": "group"}, 400),
        ("unit: bad kind", "/staff/units", {"code": "OK2", "name": "X", "kind": "planet"}, 400),
        ("unit: bad hours", "/staff/units/TDP-3", {"name": "Tổ 3", "active": "y",
                                                   "opening_hours": "sáng thứ hai"}, 400),
        ("user: short password", "/staff/users", {"username": "moi", "role": "staff",
                                                   "password": "ngan"}, 400),
        ("user: leader without unit", "/staff/users", {"username": "moi", "role": "leader",
                                                        "password": "mat-khau-rat-dai"}, 400),
        ("password: mismatch", "/staff/account", {"current": "x", "new": "mat-khau-rat-dai",
                                                  "confirm": "khac"}, 400),
        ("batch: bad count", "/staff/batches", {"questionnaire": "sipas-dichvu",
                                                "unit": "TDP-3", "sheet_count": "x"}, 400),
        ("import: bad codes", "/staff/import", _upload(
            admin_client, "phieu.csv", b"unit,q15,q21,channel\nQ1,4,7,qr\nXYZ,4,4,fax\n"),
         400),
        ("import: unknown column", "/staff/import", _upload(
            admin_client, "phieu.csv", b"unit,q15,q99\nQ1,4,1\n"), 400),
        ("import: not utf-8", "/staff/import", _upload(
            admin_client, "phieu.csv", "unit,q15\nQ1,4\nQ1,\u1ea1\n".encode("cp1258",
                                                                         "replace")
            + b"\xff\xfe"), 400),
        ("import: broken xlsx", "/staff/import", _upload(admin_client, "phieu.xlsx",
                                                          b"not a zip"), 400),
        ("import: wrong type", "/staff/import", _upload(admin_client, "phieu.pdf",
                                                         b"%PDF-1.4"), 400),
        ("sheet: bad code", f"/staff/sheets/{serial}", {
            **{f"q_q{i}": "4" for i in range(15, 34)}, "q_q21": "7", "q_gioi_tinh": "x"}, 400),
    ]
    pages: dict[str, list[str]] = {}
    statuses: dict[str, tuple[int, int]] = {}
    for name, url, form, expected in posts:
        # An import error lists the channel codes to write in the file: there they are data.
        known = data + list(CHANNELS) if name.startswith("import:") else data
        status, pages[name] = _check(admin_client, url, known, method="POST", data=form,
                                     content_type="multipart/form-data")
        statuses[name] = (status, expected)
    for name, url in (("dashboard: bad day", "/staff/?questionnaire=sipas-dichvu&from=xx"),
                      ("dashboard: unknown questionnaire 404", "/staff/?questionnaire=khong"),
                      ("audit: bad day", "/staff/audit?from=2026-13-45"),
                      ("audit: bad action", "/staff/audit?action=khong.co"),
                      ("audit: bad page", "/staff/audit?page=abc"),
                      ("unit 404", "/staff/units/KHONG-CO"),
                      ("sheet 404", "/staff/sheets/999-999")):
        status, pages[name] = _check(admin_client, url, data)
        statuses[name] = (status, 404 if "404" in name else 400)
    leader = app.test_client()
    login(leader, "totruong")
    status, pages["leader 403"] = _check(leader, "/staff/audit", data)
    statuses["leader 403"] = (status, 403)
    _assert_vietnamese(pages)
    assert {k: v for k, v in statuses.items() if v[0] != v[1]} == {}


def test_too_many_logins_page_is_vietnamese(app_factory: Callable[..., Flask]) -> None:
    app = app_factory(RATELIMIT_ENABLED=True)
    client = app.test_client()
    status = 0
    for _ in range(20):
        response = client.post("/login", data={"username": "ai", "password": "sai-mat-khau"})
        status = response.status_code
        if status == 429:
            break
    assert status == 429
    assert english_in(response.get_data(as_text=True)) == []



def test_questions_are_named_as_people_call_them(app: Flask, admin_client: FlaskClient,
                                                 ward_data: dict[str, object]) -> None:
    """A typing alert and an import error name "câu 21", not only the column id q21."""
    batch = ward_data["batch"]
    assert isinstance(batch, Batch)
    serial = paper.format_serial(batch.sheets[0].serial)
    html = admin_client.post(f"/staff/sheets/{serial}", data={
        **{f"q_q{i}": "4" for i in range(15, 34)}, "q_q21": "7"}).get_data(as_text=True)
    assert '<a href="#i-q21">Câu 21</a>' in html
    page = admin_client.post("/staff/import", data=_upload(
        admin_client, "phieu.csv", b"unit,q21\nQ1,7\n"), content_type="multipart/form-data")
    assert "Dòng 2, cột q21 (câu 21): mã “7” không có trong câu này (mã hợp lệ: 1, 2, 3, 4, " \
        "5)" in page.get_data(as_text=True)
