"""The run inspector in chromium: live list, fan-out tree, traceback, cancel, start form, XSS."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from render_sdk.engine.embedded import LocalEngine

from .conftest import APPS, screenshot

WAIT_MS = 30_000  # generous: the machine may be busy; nothing here measures speed
XSS = "<img src=x onerror=alert('xss')><script>alert('xss2')</script>"


def test_a_run_started_by_the_client_appears_without_reload(page: Any, engine: LocalEngine) -> None:
    page.goto(engine.inspector_url)
    expect(page.locator("#live")).to_have_text("live", timeout=WAIT_MS)
    page.evaluate("window.notReloaded = true")
    with engine.client() as render:
        run = render.workflows.start_task("square", [12])
    row = page.locator("#run-rows tr", has=page.locator(f"text={run.id}"))
    expect(row).to_be_visible(timeout=WAIT_MS)
    expect(row.locator(".status")).to_have_text("completed", timeout=WAIT_MS)
    assert page.evaluate("window.notReloaded") is True
    screenshot(page, "runs")
    # Keyboard: j focuses the newest run; a live update keeps the focus on it; Enter opens it.
    page.keyboard.press("j")
    link = page.locator(f'#run-rows a[href="/runs/{run.id}"]')
    expect(link).to_be_focused()
    with engine.client() as render:
        newer = render.workflows.start_task("square", [13])
    expect(page.locator("#run-rows tr", has=page.locator(f"text={newer.id}"))).to_be_visible(
        timeout=WAIT_MS
    )
    expect(link).to_be_focused(timeout=WAIT_MS)
    page.keyboard.press("Enter")
    expect(page).to_have_url(engine.base_url + f"/runs/{run.id}", timeout=WAIT_MS)
    expect(page.locator("#logs")).to_contain_text("squaring 12", timeout=WAIT_MS)
    expect(page.locator(".grid")).to_contain_text("144")


def test_a_fan_out_of_20_shows_its_20_children(page: Any, engine: LocalEngine) -> None:
    with engine.client() as render:
        details = render.workflows.run_task("fan_out", [20])
    assert details.result == sum(i * i for i in range(20))
    page.goto(f"{engine.base_url}/runs/{details.id}")
    expect(page.locator("table.tree tbody tr")).to_have_count(21, timeout=WAIT_MS)
    expect(page.locator("table.tree a.row-link")).to_have_count(20)
    expect(page.locator("table.tree rect.bar")).to_have_count(21)
    expect(page.locator("text=20 subtask runs below this run")).to_be_visible()
    screenshot(page, "run-fan-out")
    page.emulate_media(color_scheme="dark")
    screenshot(page, "run-fan-out-dark")


def test_a_failed_run_shows_its_traceback(page: Any, engine: LocalEngine) -> None:
    with engine.client() as render:
        run = render.workflows.start_task("fail", ["the disk is full"])
    page.goto(f"{engine.base_url}/runs/{run.id}")
    expect(page.locator("h1 .status")).to_have_text("failed", timeout=WAIT_MS)
    expect(page.locator("pre.error").first).to_contain_text("the disk is full")
    logs = page.locator("#logs")
    expect(logs).to_contain_text("Traceback (most recent call last):", timeout=WAIT_MS)
    expect(logs.locator(".stderr", has_text="ValueError: the disk is full")).to_have_count(1)
    screenshot(page, "run-failed")


def test_cancel_from_the_page_cancels_the_tree(page: Any, engine: LocalEngine) -> None:
    with engine.client() as render:
        run = render.workflows.start_task("wait_tree", [3])
        page.goto(f"{engine.base_url}/runs/{run.id}")
        # The page follows the run live: its three children appear, running.
        expect(page.locator("table.tree .status", has_text="running")).to_have_count(
            4, timeout=WAIT_MS
        )
        page.get_by_role("button", name="Cancel this run and its subtasks").click()
        expect(page.locator("h1 .status")).to_have_text("canceled", timeout=WAIT_MS)
        expect(page.locator("table.tree .status", has_text="canceled")).to_have_count(
            4, timeout=WAIT_MS
        )
        children = render.workflows.list_task_runs(
            __import__("render_sdk.client", fromlist=["ListTaskRunsParams"]).ListTaskRunsParams(
                root_task_run_id=run.id, limit=10
            )
        )
    assert len(children) == 4
    assert {child.status.value for child in children} == {"canceled"}


def test_the_start_form_checks_the_input(page: Any, engine: LocalEngine) -> None:
    page.goto(f"{engine.base_url}/tasks")
    card = page.locator("section.task-card", has=page.locator("h2 .task", has_text="square"))
    card.locator("textarea").fill("[1, 2]")
    card.get_by_role("button").click()
    problem = page.locator(".problem")
    expect(problem).to_contain_text("argument", timeout=WAIT_MS)
    card = page.locator("section.task-card", has=page.locator("h2 .task", has_text="square"))
    expect(card.locator("textarea")).to_have_value("[1, 2]")
    expect(card.locator("textarea")).to_be_focused()  # where the mistake is, scrolled to
    screenshot(page, "tasks-invalid-input")
    card.locator("textarea").fill('{"a": 5}')
    card.get_by_role("button").click()
    expect(page).to_have_url(__import__("re").compile(r"/runs/trn-"), timeout=WAIT_MS)
    expect(page.locator("h1 .status")).to_have_text("completed", timeout=WAIT_MS)
    expect(page.locator(".grid")).to_contain_text("25")


def test_xss_payloads_render_inert(page: Any, engine: LocalEngine) -> None:
    with engine.client() as render:
        echoed = render.workflows.run_task("echo", [XSS])
        failed = render.workflows.start_task("fail", [XSS])
    page.goto(f"{engine.base_url}/runs/{echoed.id}")
    expect(page.locator("#logs")).to_contain_text(XSS, timeout=WAIT_MS)
    expect(page.locator(".grid")).to_contain_text("onerror=alert")
    assert page.locator("img[src=x]").count() == 0
    page.goto(f"{engine.base_url}/runs/{failed.id}")
    expect(page.locator("pre.error").first).to_contain_text(XSS, timeout=WAIT_MS)
    assert page.locator("img[src=x]").count() == 0
    page.goto(engine.inspector_url)
    page.goto(f"{engine.base_url}/?task=" + XSS)
    expect(page.locator(".problem")).to_contain_text(XSS)
    assert page.locator("img[src=x]").count() == 0
    # The fixture checks that no dialog opened and no script failed.


def test_with_an_api_key_the_pages_ask_for_it_once(page: Any) -> None:
    key = "browser-test-key-5d1f"
    with LocalEngine("inspector_app:app", cwd=APPS, api_key=key) as secured:
        page.goto(secured.inspector_url)
        expect(page).to_have_url(secured.base_url + "/login", timeout=WAIT_MS)
        page.get_by_label("API key").fill("wrong")
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator(".problem")).to_contain_text("not this engine's key")
        page.get_by_label("API key").fill(key)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(secured.inspector_url, timeout=WAIT_MS)
        expect(page.locator("#live")).to_have_text("live", timeout=WAIT_MS)
        assert page.evaluate("document.cookie") == ""  # HttpOnly: no script can read it
        assert key not in page.content() and key not in page.url
        with secured.client() as render:
            run = render.workflows.run_task("square", [3])
        page.goto(f"{secured.base_url}/runs/{run.id}")
        expect(page.locator("#logs")).to_contain_text("squaring 3", timeout=WAIT_MS)
        assert key not in page.content()


def test_a_page_of_another_site_can_neither_start_cancel_nor_read_runs(
    page: Any, engine: LocalEngine
) -> None:
    with engine.client() as render:
        victim = render.workflows.start_task("wait_forever")
        before = len(render.workflows.list_task_runs(_params(limit=100)))
    # A page of another origin, served to the browser by Playwright itself.
    page.route(
        "http://attacker.test/",
        lambda route: route.fulfill(content_type="text/html", body="<h1>attacker</h1>"),
    )
    page.goto("http://attacker.test/")
    base = engine.base_url
    outcome = page.evaluate(
        """async ([base, victim]) => {
            const out = {};
            const attempt = async (name, call) => {
                try {
                    const r = await call();
                    out[name] = r.type === "opaque" ? "opaque" : r.status;
                } catch (e) {
                    out[name] = "blocked";
                }
            };
            const body = JSON.stringify({task: "square", input: [6]});
            await attempt("start", () => fetch(base + "/v1/task-runs", {
                method: "POST", mode: "no-cors", headers: {"Content-Type": "text/plain"}, body,
            }));
            await attempt("read", () => fetch(base + "/v1/task-runs"));
            await attempt("cancel", () => fetch(base + "/runs/" + victim + "/cancel",
                {method: "POST", mode: "no-cors"}));
            const form = document.createElement("form");
            form.method = "post";
            form.action = base + "/tasks/start";
            for (const [name, value] of [["task", "square"], ["input", "[7]"]]) {
                const field = document.createElement("input");
                field.name = name; field.value = value; form.append(field);
            }
            document.body.append(form);
            return out;
        }""",
        [base, victim.id],
    )
    assert outcome["read"] == "blocked", outcome  # no CORS: the answer stays unreadable
    # A form posted from that site navigates to the engine's refusal.
    with page.expect_navigation():
        page.evaluate("document.forms[0].submit()")
    assert "may not change anything on this engine" in page.content()
    with engine.client() as render:
        after = render.workflows.list_task_runs(_params(limit=100))
        assert len(after) == before, "a cross-site request started a run"
        assert render.workflows.get_task_run(victim.id).status.value == "running"
        render.workflows.cancel_task_run(victim.id)


def _params(**fields: Any) -> Any:
    from render_sdk.client import ListTaskRunsParams

    return ListTaskRunsParams(**fields)
