"""The web app in a real browser (Debian's chromium driven by Playwright) against the whole
running system: the API under gunicorn as `make run` serves it, the relay and real Celery
workers, the real database and broker. No request may leave loopback: the page is checked to
work offline (Swagger UI included). Screenshots of each page: docs/screenshots/ with
UPDATE_SCREENSHOTS=1."""
from __future__ import annotations

import collections

import json
import os
import shutil
import socket
import tempfile
import time
import uuid
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from tests.conftest import PASSWORD, REALDATA, make_test_env
from tests.support import stack

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Every run takes the screenshots; UPDATE_SCREENSHOTS=1 writes them over the README's ones
# (otherwise a test run would leave changed images in the working tree each time).
SCREENSHOTS = (Path(__file__).resolve().parents[1] / "docs" / "screenshots" if os.environ.get("UPDATE_SCREENSHOTS") == "1"
               else Path(tempfile.gettempdir()) / f"applytrack-screenshots-{os.getpid()}")
JOB_FILE = REALDATA / "jobs" / "en_servicenow_senior_swe.txt"
RESUME_FILE = REALDATA / "resumes" / "rm_chromium_single_column.pdf"
BAD_PDF = REALDATA / "badpdfs" / "pdfminer_rc4_40_user_foo.pdf"  # encrypted
XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=1</script>"><svg onload="window.__xss=1">'

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed "
                                "(scripts/ensure_test_tools.sh installs it)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def served(running_stack, tmp_path_factory):
    """The API under gunicorn (the local analyzer answers analyses), with the session's relay and workers."""
    port = _free_port()
    log_dir = tmp_path_factory.mktemp("web-api")
    argv = [str(stack.VENV_BIN / "gunicorn"), "-b", f"127.0.0.1:{port}", "-w", "2", "--threads", "4", "wsgi:app"]
    api = stack.ManagedProcess("api", argv, make_test_env(), log_dir, ready_marker="Booting worker")
    api.start()
    base = f"http://127.0.0.1:{port}"
    # Each worker builds the app after the fork: on a busy machine that takes a while.
    stack.wait_until(lambda: _answers(base), timeout=180, interval=0.5, what="gunicorn to answer")
    try:
        yield base
    finally:
        api.stop()


def _answers(base: str) -> bool:
    try:
        return requests.get(f"{base}/api/statuses", timeout=10).status_code == 200
    except requests.RequestException:
        return False


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


class Offline:
    """Aborts every request that would leave loopback, and remembers it."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.blocked: list[str] = []

    def __call__(self, route) -> None:
        url = route.request.url
        if url.startswith(self.base) or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()


@pytest.fixture
def open_page(browser, served):
    contexts = []

    def make(width: int = 1280, height: int = 900):
        context = browser.new_context(base_url=served, viewport={"width": width, "height": height},
                                      accept_downloads=True)
        context.set_default_timeout(60_000)
        offline = Offline(served)
        context.route("**/*", offline)
        page = context.new_page()
        page.offline = offline
        page.errors = []
        page.dialogs = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        # The app itself must never trip its own CSP (a refused style or script would show here).
        page.on("console", lambda message: "Content Security Policy" in message.text
                and page.errors.append(message.text))
        page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
        contexts.append(context)
        return page

    yield make
    for context in contexts:
        context.close()


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def accessible(page, where: str) -> None:
    """axe-core (shipped inside axe-playwright-python, injected from disk): no serious or critical violation."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
           for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, f"accessibility violations on {where}: {bad}"


def sign_up(page, email: str) -> None:
    page.goto("/")
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("heading", name="Board").wait_for()


def sign_in(page, email: str) -> None:
    page.goto("/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("navigation", name="Main").wait_for()


def nav(page, name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True).click()


def no_script_ran(page) -> None:
    assert page.evaluate("window.__xss") is None, "an XSS payload ran"
    assert not page.dialogs and not page.errors, (page.dialogs, page.errors)


def test_journey(open_page):
    page = open_page()
    email = f"journey-{uuid.uuid4().hex[:8]}@example.com"

    # Sign up: the API's message shows next to the field it names.
    page.goto("/")
    page.get_by_role("heading", name="Sign in").wait_for()
    shot(page, "sign-in")
    accessible(page, "sign-in")
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("short")
    page.get_by_role("button", name="Create account").click()
    password_error = page.locator('[data-field="password"] .field-error')
    password_error.wait_for()
    assert "at least 10 characters" in password_error.inner_text()
    assert page.get_by_label("Password").get_attribute("aria-invalid") == "true"
    accessible(page, "sign-up with an error")
    shot(page, "sign-up")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("heading", name="Board").wait_for()
    page.get_by_text("No applications yet").wait_for()

    # The session survives a reload (HttpOnly cookie) and page scripts cannot read the token.
    page.reload()
    page.get_by_role("heading", name="Board").wait_for()
    cookies = page.evaluate("document.cookie")
    assert "applytrack_refresh" not in cookies and "applytrack_csrf" in cookies
    refresh_cookie = next(c for c in page.context.cookies() if c["name"] == "applytrack_refresh")
    assert refresh_cookie["httpOnly"] and refresh_cookie["sameSite"] == "Strict"

    # A listing, pasted from a real job description.
    nav(page, "Listings")
    page.get_by_label("Company").fill("ServiceNow")
    page.get_by_label("Job title").fill("Senior Software Engineer")
    page.get_by_label("Job description").fill(JOB_FILE.read_text())
    page.get_by_role("button", name="Save listing").click()
    page.get_by_role("link", name="ServiceNow — Senior Software Engineer").wait_for()
    accessible(page, "listings")
    shot(page, "listings")

    # A real resume: uploaded, then its extraction watched until it finishes.
    nav(page, "Resumes")
    page.locator("#resume-file").set_input_files(str(RESUME_FILE))
    page.wait_for_url("**/#/resumes/*")
    page.locator(".extraction-status", has_text="Text extracted").wait_for(timeout=60_000)
    assert "words" in page.locator(".muted", has_text="words").inner_text()

    # An analysis: queued → running → done without a reload.
    page.evaluate("window.__sameDocument = true")
    page.get_by_role("button", name="Analyse", exact=True).click()
    seen = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        state = page.locator(".state-value").first.text_content(timeout=5000) if page.locator(".state-value").count() else None
        if state and (not seen or seen[-1] != state):
            seen.append(state)
        if state == "Done":
            break
        time.sleep(0.05)
    assert seen[-1] == "Done" and any(s in ("Queued", "Running") for s in seen), seen
    assert page.evaluate("window.__sameDocument") is True  # the page was never reloaded
    rows = page.locator("table.requirements tbody tr")
    assert rows.count() > 0
    assert page.locator("table.requirements q").count() > 0  # quoted resume lines
    page.locator(".score-value").wait_for()
    accessible(page, "resume with analysis")
    shot(page, "resume-analysis")

    # An application on the board, moved by drag and by keyboard.
    nav(page, "Board")
    page.get_by_role("button", name="Add application").click()
    page.get_by_label("Resume").select_option(index=1)  # the real resume (the only one so far)
    page.get_by_role("button", name="Add to board").click()
    card = page.locator(".card", has_text="ServiceNow")
    card.wait_for()
    column = lambda slug: page.locator(f'.column[data-status="{slug}"]')  # noqa: E731
    assert column("wishlist").locator(".card").count() == 1
    card.drag_to(column("applied"))
    column("applied").locator(".card").wait_for()
    expect(page.locator("[aria-live=assertive]")).to_contain_text("Moved ServiceNow to Applied")
    card = page.locator(".card", has_text="ServiceNow")
    card.focus()
    for stage in ("screening", "interview"):
        page.keyboard.press("Space")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("Space")
        column(stage).locator(".card").wait_for()
        page.locator(".card", has_text="ServiceNow").evaluate("el => el === document.activeElement") or \
            page.locator(".card", has_text="ServiceNow").focus()
    assert column("interview").locator(".count").inner_text() == "1"
    assert column("wishlist").locator(".count").inner_text() == "0"
    accessible(page, "board")
    shot(page, "board")

    # The history shows every move; the stats count the stage.
    page.get_by_role("link", name="ServiceNow — Senior Software Engineer").click()
    timeline = page.locator(".timeline li")
    timeline.first.wait_for()
    assert timeline.count() == 4
    assert "Screening → Interview" in timeline.nth(3).inner_text()
    page.locator(".analysis .score-value").wait_for()  # its latest analysis
    accessible(page, "application")
    shot(page, "application")
    nav(page, "Stats")
    page.get_by_role("table", name="Applications by stage").wait_for()
    by_stage = page.get_by_role("table", name="Applications by stage")
    assert by_stage.get_by_role("row", name="Interview").locator(".bar-value").inner_text() == "1"
    assert page.get_by_role("table", name="Mean days spent in each stage").get_by_role("row", name="Applied").count() == 1
    accessible(page, "stats")
    shot(page, "stats")

    # A bad PDF: its reason in plain words.
    nav(page, "Resumes")
    page.locator("#resume-file").set_input_files(str(BAD_PDF))
    page.wait_for_url("**/#/resumes/*")
    reason = page.locator(".failure-reason")
    reason.wait_for(timeout=60_000)
    assert "password-protected" in reason.inner_text()
    accessible(page, "failed resume")
    shot(page, "resume-failed")
    nav(page, "Resumes")
    page.get_by_role("list", name="Your resumes").wait_for()
    accessible(page, "resumes")
    shot(page, "resumes")
    nav(page, "Account")
    page.get_by_text("Budget per day").wait_for()
    accessible(page, "account")
    shot(page, "account")

    # Sign out: the session is gone, after a reload too.
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Sign in").wait_for()
    page.reload()
    page.get_by_role("heading", name="Sign in").wait_for()
    assert not [c for c in page.context.cookies() if c["name"] == "applytrack_refresh"]
    assert not page.offline.blocked and not page.errors, (page.offline.blocked, page.errors)


def test_xss_payloads_do_not_run_and_a_second_user_sees_nothing(open_page, served, tmp_path):
    page = open_page()
    sign_up(page, f"xss-{uuid.uuid4().hex[:8]}@example.com")
    nav(page, "Listings")
    page.get_by_label("Company").fill(XSS)
    page.get_by_label("Job title").fill("Engineer " + XSS)
    page.get_by_label("Job description").fill("Python. " + XSS)
    page.get_by_role("button", name="Save listing").click()
    page.get_by_role("link", name=f"{XSS} — Engineer {XSS}").wait_for()
    page.get_by_role("link", name=f"{XSS} — Engineer {XSS}").click()
    page.locator("pre.text", has_text="Python.").wait_for()
    assert XSS in page.locator("pre.text").inner_text()  # shown as text
    no_script_ran(page)

    resume = tmp_path / "resume.txt"
    resume.write_text(f"Jane Doe\nPython developer\n{XSS}\nSkills: Python, PostgreSQL, Flask\n")
    nav(page, "Resumes")
    page.locator("#resume-file").set_input_files(str(resume))
    page.wait_for_url("**/#/resumes/*")
    page.locator(".extraction-status", has_text="Text extracted").wait_for(timeout=60_000)
    page.get_by_text("Extracted text").click()
    assert XSS in page.locator(".resume-text").inner_text()
    no_script_ran(page)

    nav(page, "Board")
    page.get_by_role("button", name="Add application").click()
    page.get_by_label("Notes").fill(XSS)
    page.get_by_label("Tags").fill("<b>bold</b>")
    page.get_by_role("button", name="Add to board").click()
    page.locator(".card").first.wait_for()
    page.locator(".card-title").first.click()
    page.locator(".timeline li").first.wait_for()
    assert page.get_by_label("Notes").input_value() == XSS
    no_script_ran(page)
    application_url = page.url

    # Another user: none of it, even by address.
    other = open_page()
    sign_up(other, f"other-{uuid.uuid4().hex[:8]}@example.com")
    other.get_by_text("No applications yet").wait_for()
    nav(other, "Listings")
    other.get_by_text("No listings yet").wait_for()
    nav(other, "Resumes")
    other.get_by_text("No resumes yet").wait_for()
    other.goto(application_url.replace(served, ""))
    other.get_by_text("Application not found").wait_for()
    assert XSS not in other.content()


def test_phone_width_and_swagger_ui_offline(open_page):
    page = open_page(width=390, height=844)
    sign_up(page, f"phone-{uuid.uuid4().hex[:8]}@example.com")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    accessible(page, "board at phone width")
    shot(page, "board-phone")

    docs = open_page()
    docs.goto("/api/docs")
    docs.locator(".swagger-ui .info .title", has_text="Applytrack API").wait_for(timeout=15_000)
    docs.locator(".opblock-tag", has_text="auth").first.wait_for()
    assert not docs.offline.blocked, docs.offline.blocked  # nothing but loopback was asked for
    shot(docs, "api-docs")


def test_board_with_200_applications_shows_every_card_in_its_column(open_page, served):
    """All 200 on the first load, each column counted. How long the load takes is printed (the
    figure in README/BENCHMARKS: `pytest tests/test_web_browser.py -k 200 -s`), not asserted:
    speed targets are for benchmarks on a quiet machine, never a test's pass or fail."""
    email = f"many-{uuid.uuid4().hex[:8]}@example.com"
    session = requests.Session()
    session.post(f"{served}/api/auth/register", json={"email": email, "password": PASSWORD}).raise_for_status()
    token = session.post(f"{served}/api/auth/login", json={"email": email, "password": PASSWORD}).json()["access_token"]
    session.headers["Authorization"] = f"Bearer {token}"
    stages = ["wishlist", "applied", "screening", "interview", "offer", "rejected"]
    for company in range(20):
        job = session.post(f"{served}/api/jobs", json={"company": f"Company {company}", "title": "Engineer"}).json()
        for n in range(10):
            session.post(f"{served}/api/applications", json={"job_id": job["id"], "status": stages[n % 6],
                                                               "tags": ["batch"]}).raise_for_status()
    page = open_page()
    sign_in(page, email)
    page.get_by_role("heading", name="Board").wait_for()
    # A load of the board, as when opening the app (session restored from the cookie), from
    # navigation start to 200 cards drawn. The best of three: the machine is shared with other work.
    page.goto("/#/board")
    timings = []
    for _ in range(3):
        page.reload()
        # Checked on every animation frame in the page (expect() polls at up to 1 s intervals;
        # wait_for_function's eval is refused by the CSP): the first frame with 200 cards.
        timings.append(page.evaluate("""() => new Promise((resolve) => {
            const check = () => document.querySelectorAll('.card').length === 200
                ? resolve(performance.now()) : requestAnimationFrame(check);
            check();
        })"""))
    transferred = page.evaluate("""() => performance.getEntriesByType('navigation').concat(
        performance.getEntriesByType('resource')).reduce((sum, e) => sum + (e.transferSize || e.encodedBodySize || 0), 0)""")
    print(f"\nboard with 200 applications: {', '.join(f'{t:.0f}' for t in timings)} ms from navigation start; "
          f"{transferred / 1024:.0f} KiB transferred")
    counts = {column.get_attribute("data-status"): column.locator(".card").count()
              for column in page.locator(".column").all()}
    expected = collections.Counter(stages[n % 6] for _company in range(20) for n in range(10))
    assert {stage: count for stage, count in counts.items() if count} == expected
    shown = {column.get_attribute("data-status"): int(column.locator("h2 .count").inner_text())
             for column in page.locator(".column").all()}
    assert shown == counts


def test_an_ended_session_and_a_busy_server_lose_nothing(open_page, served):
    page = open_page()
    email = f"ended-{uuid.uuid4().hex[:8]}@example.com"
    sign_up(page, email)

    # Half-way through typing a listing, the session ends (signed out elsewhere: revoked).
    nav(page, "Listings")
    page.get_by_label("Company").fill("Typed Before Expiry")
    page.get_by_label("Job title").fill("Platform Engineer")
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "applytrack_csrf")
    assert page.context.request.delete(f"{served}/api/auth/session", headers={"X-CSRF-Token": csrf}).status == 204
    page.get_by_role("button", name="Save listing").click()
    dialog = page.get_by_role("dialog", name="Your session has ended")
    dialog.wait_for()
    accessible(page, "sign in again")
    dialog.get_by_label("Password").fill(PASSWORD)
    dialog.get_by_role("button", name="Sign in").click()
    # The save it interrupted goes through with what was typed.
    page.get_by_role("link", name="Typed Before Expiry — Platform Engineer").wait_for()
    assert not dialog.is_visible()

    # A 503 with Retry-After: the page says when and retries by itself.
    answered = []

    def busy_once(route):
        if not answered:
            answered.append(route.request.url)
            route.fulfill(status=503, headers={"Retry-After": "2", "Content-Type": "application/json"},
                          body=json.dumps({"code": 503, "status": "Service Unavailable",
                                           "message": "The database is unavailable; please retry shortly."}))
        else:
            route.fallback()

    page.route("**/api/applications/stats", busy_once)
    nav(page, "Stats")
    page.get_by_text("Try again in 2 seconds").wait_for()
    page.get_by_text("No applications yet: stats appear").wait_for(timeout=10_000)
    assert len(answered) == 1 and not page.errors


def test_an_administrator_discards_a_dead_letter(open_page, app, llm_client, auth, workers, llm):
    import celeryconfig
    from tests.conftest import bearer, upload, wait_for_analysis, wait_for_extraction

    # A dead analysis: the LLM refuses the key, so it dies at its first attempt.
    user = bearer(llm_client.post("/api/auth/login", json={"email": (email := auth.register()), "password": PASSWORD})
                  .json["access_token"])
    resume = wait_for_extraction(llm_client, user, upload(llm_client, user, RESUME_FILE.read_bytes()).json["id"])
    job = llm_client.post("/api/jobs", json={"company": "Acme", "title": "Engineer", "description": "Python"},
                          headers=user).json
    llm.script.control({"faults": ["401"]})
    accepted = llm_client.post(f"/api/resumes/{resume['id']}/analyze", json={"job_id": job["id"]}, headers=user).json
    dead = wait_for_analysis(llm_client, user, accepted["id"])
    assert dead["state"] == "dead"
    stack.wait_until(lambda: [m for m in stack.peek_messages(celeryconfig.DEAD_LETTER_QUEUE.name)
                              if m["properties"]["headers"]["id"] == dead["background_job_id"]],
                     timeout=15, what="the dead letter")

    # Its owner, an ordinary user, has no such page.
    page = open_page()
    sign_in(page, email)
    page.get_by_role("heading", name="Board").wait_for()
    assert page.get_by_role("link", name="Dead letters").count() == 0

    admin_email = f"admin-{uuid.uuid4().hex[:6]}@example.com"
    result = app.test_cli_runner().invoke(args=["users", "create-admin", admin_email, "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    admin = open_page()
    sign_in(admin, admin_email)
    nav(admin, "Dead letters")
    row = admin.get_by_role("row").filter(has_text=dead["background_job_id"])
    row.wait_for()
    accessible(admin, "dead letters")
    shot(admin, "dead-letters")
    row.get_by_label("Note for discarding").fill("The key was rotated; asked the user to retry.")
    row.get_by_role("button", name="Discard").click()
    admin.get_by_text("No dead letters").wait_for()
    admin.get_by_role("list", name="Dead-letter actions").get_by_text("The key was rotated").wait_for()


def test_filters_delete_and_restore_a_listing_in_use_download_and_password(open_page, served, tmp_path):
    page = open_page()
    email = f"filters-{uuid.uuid4().hex[:8]}@example.com"
    sign_up(page, email)
    api = page.context.request  # seeding through the API, as another client would
    token = api.post(f"{served}/api/auth/login", data={"email": email, "password": PASSWORD}).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    for company, tags in (("Acme", ["remote"]), ("Globex", [])):
        job = api.post(f"{served}/api/jobs", data={"company": company, "title": "Engineer"}, headers=auth).json()
        assert api.post(f"{served}/api/applications", data={"job_id": job["id"], "status": "applied", "tags": tags},
                        headers=auth).status == 201
    page.reload()
    expect(page.locator(".card")).to_have_count(2)

    def apply(**values):
        for label, value in values.items():
            field = page.get_by_role("search").get_by_label(label, exact=True)
            field.set_checked(value) if isinstance(value, bool) else field.fill(value)
        page.get_by_role("button", name="Apply filters").click()

    apply(Search="Globex")
    expect(page.locator(".card")).to_have_count(1)
    expect(page.locator(".card")).to_contain_text("Globex")
    apply(Search="", Tag="remote")
    expect(page.locator(".card")).to_have_count(1)
    expect(page.locator(".card")).to_contain_text("Acme")

    # Delete, find it among the deleted, restore it.
    page.get_by_role("link", name="Acme — Engineer").click()
    page.get_by_role("button", name="Delete application").click()
    page.get_by_role("heading", name="Board").wait_for()
    apply(Tag="", **{"Deleted applications": True})
    page.get_by_role("button", name="Restore").click()
    page.get_by_text("No deleted applications.").wait_for()
    apply(**{"Deleted applications": False})
    expect(page.locator(".card")).to_have_count(2)

    # A listing in use: the API's 409, explained.
    nav(page, "Listings")
    page.get_by_role("link", name="Acme — Engineer").click()
    page.get_by_role("button", name="Delete listing").click()
    expect(page.get_by_role("alert")).to_contain_text("cannot be deleted while applications use it")

    # The original file of a resume comes back as uploaded.
    original = tmp_path / "cv.txt"
    original.write_text("Jane Doe\nPython developer\n")
    nav(page, "Resumes")
    page.locator("#resume-file").set_input_files(str(original))
    page.wait_for_url("**/#/resumes/*")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the original").click()
    assert Path(download.value.path()).read_bytes() == original.read_bytes()

    # A file dropped on the upload area is uploaded too.
    nav(page, "Resumes")
    dropped = page.evaluate_handle("""() => {
        const data = new DataTransfer();
        data.items.add(new File(["Sam Roe\\nGo and Rust developer\\n"], "dropped.txt", { type: "text/plain" }));
        return data;
    }""")
    page.locator(".drop-zone").dispatch_event("drop", {"dataTransfer": dropped})
    page.get_by_role("heading", name="dropped").wait_for()
    page.locator(".extraction-status", has_text="Text extracted").wait_for()

    # A password change keeps this session and refuses the old password at the next sign-in.
    nav(page, "Account")
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password").fill("another-long-passphrase")
    page.get_by_role("button", name="Change password").click()
    page.get_by_text("Password changed").wait_for()
    nav(page, "Board")
    expect(page.locator(".card")).to_have_count(2)
    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Wrong email or password")
    assert not page.errors, page.errors
