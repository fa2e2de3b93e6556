"""The web desk's doors, through aiohttp's test client on a real SQLite file: without a session
every page and download answers the sign-in page (401) or 403; a used or expired link, an idle
or signed-out session, a form without its CSRF token and a unit officer's identity reach
nothing; an answer holding HTML shows as text.

Session-scoped fixtures (used by this module only): the suite interleaves slow tests with quick
ones from other modules, and a module-scoped database would be seeded again each time."""

from __future__ import annotations

import asyncio
import io
import re
import zipfile
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path

import docx
import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select, update

from bot.config import Settings
from bot.web.app import make_app
from bot.web.auth import COOKIE
from bot.web.keys import SETTINGS
from deadlines.workdays import WorkingCalendar
from engine.answers import Answer
from engine.conversation import ReportEngine
from handlers.campaigns import create_campaign
from handlers.text_chat import TextContext, handle_text
from storage.models import Campaign, CampaignUnit, OutboxMessage, Submission, Unit, WebToken, utcnow
from storage.reports import Actor, mark_submitted, save_answer, submission_for
from storage.web_tokens import create_login_link, open_session
from tests.web_desk import HOSTILE, NOW, SUBMITTED, TODAY, Desk, seeded_desk

pytestmark = pytest.mark.asyncio(loop_scope="session")
Client = TestClient[web.Request, web.Application]
SAMPLE = {"campaign": "1", "unit": "1", "invite": "1", "index": "1", "attachment": "1"}


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def desk(tmp_path_factory: pytest.TempPathFactory, engine: ReportEngine) -> AsyncIterator[Desk]:
    path: Path = tmp_path_factory.mktemp("web") / "desk.sqlite3"
    desk = await seeded_desk(f"sqlite+aiosqlite:///{path}", engine)
    yield desk
    await desk.db.close()


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def client(desk: Desk, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Client]:
    settings = Settings(database_url=desk.db.url, now=datetime.fromisoformat(NOW), web_public_url="https://desk.example.vn",
                        data_dir=tmp_path_factory.mktemp("desk-data"))
    async with TestClient(TestServer(make_app(settings, desk.db))) as client:
        yield client


async def link(desk: Desk, officer_id: int | None = None) -> str:
    async with desk.db.transaction() as session:
        from storage.models import Officer

        officer = await session.get(Officer, officer_id or desk.admin.id)
        assert officer is not None
        token = await create_login_link(session, officer)
        assert token is not None
        return token


async def signed_in(client: Client, desk: Desk) -> dict[str, str]:
    """A session cookie from a fresh link; and the page's CSRF token."""
    response = await client.post("/login", data={"token": await link(desk)}, allow_redirects=False)
    assert response.status == 303
    cookie = response.cookies[COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["secure"]
    page = await client.get("/", cookies={COOKIE: cookie.value})
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', await page.text())
    assert csrf is not None
    return {"cookie": cookie.value, "csrf": csrf.group(1)}


def every_route(client: Client) -> list[tuple[str, str]]:
    app = client.app
    assert app is not None
    found = []
    for route in app.router.routes():
        assert route.resource is not None
        path = re.sub(r"\{(\w+)(:[^}]*)?\}", lambda m: SAMPLE[m.group(1)], route.resource.canonical)
        if route.method in ("GET", "POST") and not path.startswith(("/login", "/healthz", "/static")):
            found.append((route.method, path))
    return found


async def test_without_a_session_every_page_and_download_is_closed(client: Client) -> None:
    routes = every_route(client)
    assert len(routes) >= 15 and ("GET", "/campaigns/1/workbook.xlsx") in routes
    for method, path in routes:
        response = await client.request(method, path, allow_redirects=False)
        body = await response.text()
        if method == "GET":
            assert response.status == 401, path
            assert "Đăng nhập bàn làm việc" in body and "Phường" not in body, path
        else:
            assert response.status == 403, path
    # A made-up cookie is no session either.
    response = await client.get("/", cookies={COOKIE: "not-a-session"})
    assert response.status == 401


async def test_a_link_signs_in_once_and_not_after_15_minutes(client: Client,
                                                             desk: Desk) -> None:
    token = await link(desk)
    preview = await client.get(f"/login?token={token}")  # a chat app's link preview spends nothing
    assert preview.status == 200 and token in await preview.text()
    first, second = await asyncio.gather(*(client.post("/login", data={"token": token}, allow_redirects=False)
                                           for _ in range(2)))
    assert sorted([first.status, second.status]) == [303, 403]
    again = await client.post("/login", data={"token": token}, allow_redirects=False)
    assert again.status == 403 and "đã được sử dụng hoặc đã hết hạn" in await again.text()

    stale = await link(desk)
    async with desk.db.transaction() as session:
        await session.execute(update(WebToken).where(WebToken.kind == "link", WebToken.used_at.is_(None))
                              .values(expires_at=utcnow() - timedelta(seconds=1)))
    expired = await client.post("/login", data={"token": stale}, allow_redirects=False)
    assert expired.status == 403
    async with desk.db.transaction() as session:
        stored = list(await session.scalars(select(WebToken.token_hash)))
    assert token not in stored and stale not in stored  # hashes only


async def test_sessions_end_on_sign_out_and_when_idle(client: Client, desk: Desk) -> None:
    kept = await signed_in(client, desk)
    assert (await client.get("/", cookies={COOKIE: kept["cookie"]})).status == 200
    forged = await client.post("/logout", cookies={COOKIE: kept["cookie"]}, allow_redirects=False)
    assert forged.status == 403  # no CSRF token: not even signing out
    out = await client.post("/logout", data={"csrf": kept["csrf"]}, cookies={COOKIE: kept["cookie"]},
                            allow_redirects=False)
    assert out.status == 303
    assert (await client.get("/", cookies={COOKIE: kept["cookie"]})).status == 401

    idle = await signed_in(client, desk)
    async with desk.db.transaction() as session:
        await session.execute(update(WebToken).where(WebToken.kind == "session")
                              .values(last_seen_at=utcnow() - timedelta(minutes=61)))
    assert (await client.get("/", cookies={COOKIE: idle["cookie"]})).status == 401


async def test_a_form_without_its_csrf_token_changes_nothing(client: Client,
                                                            desk: Desk) -> None:
    session_data = await signed_in(client, desk)
    async with desk.db.transaction() as session:
        unit = await session.scalar(select(Unit).where(Unit.code == SUBMITTED[1]))
        assert unit is not None
    target = f"/campaigns/1/units/{unit.id}/accept"
    for data in ({}, {"csrf": "0" * 64}, {"csrf": session_data["csrf"][:-1]}, {"csrf": "đ" * 64}):
        refused = await client.post(target, data=data, cookies={COOKIE: session_data["cookie"]},
                                    allow_redirects=False)
        assert refused.status == 403 and "không được thực hiện" in await refused.text()
    async with desk.db.transaction() as session:
        status = await session.scalar(select(Submission.status).where(Submission.unit_id == unit.id))
        assert status == "submitted"
        assert not list(await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "accept")))


async def test_an_answer_holding_html_shows_as_text(client: Client, desk: Desk) -> None:
    session_data = await signed_in(client, desk)
    async with desk.db.transaction() as session:
        unit = await session.scalar(select(Unit).where(Unit.code == SUBMITTED[0]))
        assert unit is not None
    page = await (await client.get(f"/campaigns/1/units/{unit.id}", cookies={COOKIE: session_data["cookie"]})
                  ).text()
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&lt;b&gt;đậm&lt;/b&gt; &amp; “ngoặc”" in page
    assert "<script" not in page and "<b>đậm" not in page
    assert HOSTILE not in page


async def test_a_unit_officer_reaches_nothing(client: Client, desk: Desk) -> None:
    officer = desk.officers[SUBMITTED[0]]
    async with desk.db.transaction() as session:
        from storage.models import Officer

        row = await session.get(Officer, officer.id)
        assert row is not None
        assert await create_login_link(session, row) is None  # no link for an officer
        cookie = await open_session(session, row)  # nor does a session of theirs open anything
    for method, path in every_route(client):
        response = await client.request(method, path, cookies={COOKIE: cookie}, allow_redirects=False)
        assert response.status in (401, 403), path
    # /web from an officer's chat is an answer, not a link.
    async with desk.db.transaction() as session:
        ctx = TextContext(session, "telegram", "100", "100", "", WorkingCalendar(), TODAY,
                          "ke-hoach-20-2021.yaml", web_url="https://desk.example.vn")
        assert not any("/login?token=" in text for text in await handle_text(ctx, "/web"))


async def test_an_admin_writing_web_in_zalo_receives_a_link_that_signs_in(
        client: Client, desk: Desk) -> None:
    from tests.web_desk import person

    await person(desk.db, "z-office", None)  # registered through Telegram's path; the text path is Zalo's
    async with desk.db.transaction() as session:
        ctx = TextContext(session, "telegram", "z-office", "z-office", "", WorkingCalendar(), TODAY,
                          "ke-hoach-20-2021.yaml", web_url="https://desk.example.vn")
        (reply,) = await handle_text(ctx, "/web")
    match = re.search(r"https://desk\.example\.vn/login\?token=([\w-]+)", reply)
    assert match is not None and "15 phút" in reply
    response = await client.post("/login", data={"token": match.group(1)}, allow_redirects=False)
    assert response.status == 303


# ----- what the pages give, on the same database ---------------------------------------------------

async def test_downloads_open_as_what_they_say(client: Client, desk: Desk) -> None:
    cookies = {COOKIE: (await signed_in(client, desk))["cookie"]}
    archive = await client.get("/campaigns/1/submitted.zip", cookies=cookies)
    assert archive.status == 200
    with zipfile.ZipFile(io.BytesIO(await archive.read())) as handed_in:
        names = sorted(handed_in.namelist())
        assert names == sorted(f"bao-cao-{code}-tu-kiem-tra-2027.docx" for code in SUBMITTED)
        for name in names:
            assert docx.Document(io.BytesIO(handed_in.read(name))).paragraphs
    summary = await client.get("/campaigns/1/summary.docx", cookies=cookies)
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(await summary.read())).paragraphs)
    assert "BÁO CÁO" in text and "2027" in text
    chart = await client.get("/campaigns/1/chart-1.png", cookies=cookies)
    assert (await chart.read()).startswith(b"\x89PNG")
    assert "attachment" in chart.headers["Content-Disposition"]


async def test_last_periods_figure_stands_beside_this_ones(client: Client, desk: Desk,
                                                          engine: ReportEngine) -> None:
    async with desk.db.transaction() as session:
        last = await create_campaign(session, "tu-kiem-tra-2026", "Tự kiểm tra năm 2026", "fixed_date",
                                     date(2026, 10, 31), "ke-hoach-20-2021.yaml")
        unit = await session.scalar(select(Unit).where(Unit.code == SUBMITTED[1]))
        assert unit is not None
        submission = await submission_for(session, last, unit.id)
        actor = Actor(desk.officers[SUBMITTED[1]].id, "telegram")
        await save_answer(session, submission, engine.outline, "dossiers_total", Answer.of(2468), actor)
        await mark_submitted(session, submission, actor)
    page = await client.get(f"/campaigns/1/units/{unit.id}",
                            cookies={COOKIE: (await signed_in(client, desk))["cookie"]})
    assert "kỳ trước: 2.468" in await page.text()


async def test_a_reminder_now_to_the_units_at_risk_goes_once(client: Client, desk: Desk) -> None:
    session_data = await signed_in(client, desk)
    cookies = {COOKIE: session_data["cookie"]}
    for queued in ("1", "0"):  # Phường Tân An's officer; the second press changes nothing
        pressed = await client.post("/reminders/now", data={"csrf": session_data["csrf"], "campaign": "1"},
                                    cookies=cookies, allow_redirects=False)
        assert pressed.status == 303 and pressed.headers["Location"].endswith(f"queued={queued}")
    async with desk.db.transaction() as session:
        chats = list(await session.scalars(select(OutboxMessage.chat_id).where(
            OutboxMessage.kind == "reminder", OutboxMessage.status == "pending")))
    assert chats == ["102"]
    listing = await (await client.get("/reminders", cookies=cookies)).text()
    assert "Phường Tân An · Cán bộ 102" in listing and "chờ gửi" in listing


async def test_a_unit_joins_an_inspection_campaign_under_the_chats_rules(client: Client, desk: Desk) -> None:
    session_data = await signed_in(client, desk)
    cookies, csrf = {COOKIE: session_data["cookie"]}, session_data["csrf"]
    form = {"csrf": csrf, "code": "kiem-tra-2027", "title": "Kiểm tra năm 2027", "kind": "before_visit",
            "due": "2027-12-31", "action": "save"}
    saved = await client.post("/campaigns", data=form, cookies=cookies, allow_redirects=False)
    assert saved.status == 303
    async with desk.db.transaction() as session:
        campaign = await session.scalar(select(Campaign).where(Campaign.code == "kiem-tra-2027"))
        assert campaign is not None
    target = f"/campaigns/{campaign.id}/dates"
    # Two working days' notice: refused, with the earliest lawful day.
    early = await client.post(target, cookies=cookies,
                              data={"csrf": csrf, "unit": "31147", "day": "2027-10-27"})
    assert "Ngày kiểm tra sớm nhất hợp lệ là 08/11/2027" in await early.text()
    lawful = await client.post(target, cookies=cookies,
                               data={"csrf": csrf, "unit": "31147", "day": "2027-11-15"})
    assert "Đã ghi lịch kiểm tra Phường Tân An ngày 15/11/2027; hạn gửi báo cáo: 08/11/2027" \
        in await lawful.text()
    async with desk.db.transaction() as session:
        visits = list(await session.scalars(select(CampaignUnit.visit_date).where(
            CampaignUnit.campaign_id == campaign.id)))
    assert visits == [date(2027, 11, 15)]


async def test_a_units_files_download_as_sent_from_its_report_only(client: Client, desk: Desk) -> None:
    from urllib.parse import unquote

    from markupsafe import escape

    from bot.web.render import disposition
    from handlers.attachments import Incoming, Verdict, attach_file
    from handlers.outline_versions import outline_of
    from handlers.report import Report
    from storage.files import FileStore
    from storage.models import Attachment
    from tests.web_desk import AT_WORK

    app = client.app
    assert app is not None
    store = FileStore(app[SETTINGS].attachments_dir)
    name = 'Quyết định "số 12"; kèm\r\nSet-Cookie: x.pdf'
    content = b"%PDF-1.4\n% the unit's decision\n%%EOF\n"
    officer = desk.officers[AT_WORK]
    async with desk.db.transaction() as session:
        unit = await session.scalar(select(Unit).where(Unit.code == AT_WORK))
        other = await session.scalar(select(Unit).where(Unit.code == SUBMITTED[1]))
        assert unit is not None and other is not None
        campaign = await session.get(Campaign, 1)  # earlier tests opened others for this unit
        assert campaign is not None
        report = Report(officer, unit, campaign, "telegram", await outline_of(session, campaign))
        attached = await attach_file(session, store, report, None, Incoming(name, content, "cả báo cáo"))
        assert attached.verdict is Verdict.SAVED
        row = await session.scalar(select(Attachment).order_by(Attachment.id.desc()))
        assert row is not None
    cookies = {COOKIE: (await signed_in(client, desk))["cookie"]}
    page = await (await client.get(f"/campaigns/1/units/{unit.id}", cookies=cookies)).text()
    target = f"/campaigns/1/units/{unit.id}/attachments/{row.id}"
    assert "Tài liệu kèm theo (1)" in page and f'href="{target}"' in page and "cả báo cáo" in page
    assert str(escape(row.filename)) in page and row.filename.startswith("Quyết định")

    got = await client.get(target, cookies=cookies)
    assert got.status == 200 and await got.read() == content
    assert got.headers["Content-Type"] == "application/pdf"
    header = got.headers["Content-Disposition"]
    assert "\r" not in header and "\n" not in header and header.startswith("attachment; ")
    assert unquote(header.split("filename*=UTF-8''")[1]) == row.filename
    # Whatever a name holds, the header keeps to its one line and its quotes.
    forged = disposition('a"; filename="evil.html"\r\nSet-Cookie: x=1.pdf')
    assert forged.count('"') == 2 and "\r" not in forged and "\n" not in forged
    assert len(forged.split(";")) == 3
    # The file is this unit's: through another unit's report it is not there.
    assert (await client.get(f"/campaigns/1/units/{other.id}/attachments/{row.id}", cookies=cookies)
            ).status == 404
    # The unit's .docx (the zip of handed-in reports is made of the same) lists it in its appendix.
    report_docx = await client.get(f"/campaigns/1/units/{unit.id}/report.docx", cookies=cookies)
    document = docx.Document(io.BytesIO(await report_docx.read()))
    cells = [cell.text for table in document.tables for table_row in table.rows for cell in table_row.cells]
    assert row.filename in cells
    # Bytes that no longer match their checksum are not handed out.
    store.path_for(row.sha256).write_bytes(content + b"tampered")
    assert (await client.get(target, cookies=cookies)).status == 404


async def test_signers_and_recipients_set_on_the_desk_print_in_the_documents(client: Client,
                                                                             desk: Desk) -> None:
    session_data = await signed_in(client, desk)
    cookies, csrf = {COOKIE: session_data["cookie"]}, session_data["csrf"]

    async def post(path: str, **form: str) -> int:
        return (await client.post(path, data=form, cookies=cookies, allow_redirects=False)).status

    async def text_of(path: str) -> str:
        document = docx.Document(io.BytesIO(await (await client.get(path, cookies=cookies)).read()))
        cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
        return "\n".join([p.text for p in document.paragraphs] + cells)

    office = {"title": "KT. CHÁNH VĂN PHÒNG\n  PHÓ CHÁNH VĂN PHÒNG  \n", "name": "Trần  Thị Bình"}
    assert await post("/signers/office", **office) == 403  # no CSRF token
    assert await post("/signers/office", csrf=csrf, **office) == 303
    assert await post("/signers/unit", csrf=csrf, unit=SUBMITTED[1], name="Nguyễn Văn An",
                      title="TM. ỦY BAN NHÂN DÂN\nKT. CHỦ TỊCH\nPHÓ CHỦ TỊCH") == 303
    assert await post("/campaigns/1/recipients", csrf=csrf, reports="Văn phòng UBND thành phố\nSở Nội vụ",
                      summary="UBND thành phố\nBộ Tư pháp") == 303
    page = await (await client.get(f"/signers?unit={SUBMITTED[1]}&campaign=1", cookies=cookies)).text()
    assert "PHÓ CHỦ TỊCH" in page and 'value="Nguyễn Văn An"' in page and "Sở Nội vụ" in page

    async with desk.db.transaction() as session:
        unit = await session.scalar(select(Unit).where(Unit.code == SUBMITTED[1]))
        assert unit is not None
    report = await text_of(f"/campaigns/1/units/{unit.id}/report.docx")
    assert "PHÓ CHỦ TỊCH" in report and "Nguyễn Văn An" in report and "Sở Nội vụ" in report
    summary = await text_of("/campaigns/1/summary.docx")
    assert "PHÓ CHÁNH VĂN PHÒNG" in summary and "Trần Thị Bình" in summary and "Bộ Tư pháp" in summary
    # Emptied, they go back to the defaults, as `--reset` does.
    assert await post("/signers/unit", csrf=csrf, unit=SUBMITTED[1], title="", name="") == 303
    report = await text_of(f"/campaigns/1/units/{unit.id}/report.docx")
    assert "Nguyễn Văn An" not in report and "CHỦ TỊCH" in report


async def test_a_fixed_date_campaign_opened_for_chosen_units_counts_only_them(client: Client,
                                                                              desk: Desk) -> None:
    from handlers.reminders import campaign_members
    from handlers.report import unit_rounds
    from tests.web_desk import AT_WORK

    session_data = await signed_in(client, desk)
    cookies = {COOKIE: session_data["cookie"]}
    form = {"csrf": session_data["csrf"], "code": "bo-sung-2028", "title": "Báo cáo bổ sung 2028",
            "kind": "fixed_date", "due": "2028-03-31"}
    chosen = [("units", AT_WORK), ("units", SUBMITTED[1])]
    preview = await client.post("/campaigns", data=[*form.items(), *chosen, ("action", "preview")],
                                cookies=cookies)
    assert "Đơn vị báo cáo:</b> 2 đơn vị được chọn" in await preview.text()
    saved = await client.post("/campaigns", data=[*form.items(), *chosen, ("action", "save")],
                              cookies=cookies, allow_redirects=False)
    assert saved.status == 303
    async with desk.db.transaction() as session:
        campaign = await session.scalar(select(Campaign).where(Campaign.code == "bo-sung-2028"))
        left_out = await session.scalar(select(Unit).where(Unit.code == SUBMITTED[0]))
        assert campaign is not None and left_out is not None
        members = await campaign_members(session, campaign, WorkingCalendar())
        assert sorted(m.unit.code for m in members) == sorted([AT_WORK, SUBMITTED[1]])
        # A unit left out is not asked for it in its chat.
        rounds = await unit_rounds(session, left_out)
        assert rounds.current is None or rounds.current.id != campaign.id
    board = await (await client.get(f"/?campaign={campaign.id}", cookies=cookies)).text()
    assert "trên 2 đơn vị" in board and "Phường Tân An" in board and "Phường Ninh Kiều" not in board
