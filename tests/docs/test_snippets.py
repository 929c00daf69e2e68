"""Every Python block of README.md and docs/*.md runs against a real local engine.

One test per block, named by its file and line (``test_snippet[docs/client.md:53]``). How blocks
are run, and the two directives that change it, are described in tests/docs/snippets.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.docs.snippets import (
    ROOT,
    Block,
    Document,
    DocumentRun,
    all_documents,
    iter_blocks,
    parse,
    readme_main,
)

pytestmark = pytest.mark.e2e

DOCS = all_documents()
# Blocks marked `not run` (each with its reason). Raise this only for a block that cannot run
# against a local engine at all; a block that merely needs setup can get it from an earlier block.
MOST_NOT_RUN = 2


@pytest.fixture(scope="session")
def document_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[[Document], DocumentRun]]:
    """The run of a document: started at its first block, stopped when the next document starts
    (tests run in document order) or at the end of the session."""
    runs: dict[Path, DocumentRun] = {}
    base = tmp_path_factory.mktemp("docs")
    main = readme_main(DOCS)

    def get(doc: Document) -> DocumentRun:
        if doc.path not in runs:
            for other in runs.values():
                other.close()
            runs.clear()
            project = base / str(doc.path.relative_to(ROOT)).replace("/", "_").replace(".", "_")
            runs[doc.path] = DocumentRun(doc, project)
            runs[doc.path].start(main)
        return runs[doc.path]

    yield get
    for run in runs.values():
        run.close()


@pytest.mark.timeout(300)
@pytest.mark.parametrize("block", list(iter_blocks(DOCS)), ids=lambda b: b.id)
def test_snippet(
    block: Block,
    document_run: Callable[[Document], DocumentRun],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    doc = next(d for d in DOCS if d.path == block.doc)
    run = document_run(doc)
    for name in ("RENDER_API_KEY", "RENDER_USE_LOCAL_DEV"):
        monkeypatch.delenv(name, raising=False)
    for name, value in run.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(run.project)
    run.run(block)


def test_every_python_block_runs_or_says_why_not() -> None:
    """Directives are well formed and sit right before a Python block; blocks that are not run
    say why, and there are few of them."""
    problems = [p for doc in DOCS for p in doc.problems]
    assert not problems, "\n".join(problems)
    not_run = [b for doc in DOCS for b in doc.blocks if b.is_python and b.not_run is not None]
    listing = "\n".join(f"{b.id}: {b.not_run}" for b in not_run)
    assert len(not_run) <= MOST_NOT_RUN, f"{len(not_run)} blocks are not run:\n{listing}"
    runnable = {b.id for b in iter_blocks(DOCS)}
    python = {b.id for doc in DOCS for b in doc.blocks if b.is_python}
    assert python == runnable | {b.id for b in not_run}
    assert runnable, "no Python block found in the docs"


def test_directives_are_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A directive with no reason, an unknown one, or one that marks no Python block is reported."""
    monkeypatch.setattr("tests.docs.snippets.ROOT", tmp_path)
    page = tmp_path / "page.md"
    page.write_text(
        "<!-- snippet: not run -->\n```python\nx = 1\n```\n\n"
        "<!-- snippet: skip it -->\n```python\nx = 2\n```\n\n"
        "<!-- snippet: not run: needs Render's hosted API -->\n\nSome text.\n\n"
        "```python\nx = 3\n```\n\n"
        "<!-- snippet: namespace plain -->\n```py\n# main.py\nx = 4\n```\n\n"
        "<!-- snippet: not run: a shell command -->\n```sh\necho 5\n```\n"
    )
    doc = parse(page)
    assert doc.problems == [
        "page.md:1: 'not run' needs a reason or a name",
        "page.md:6: unknown directive 'skip it'",
        "page.md:11: 'not run: needs Render's hosted API' is not right before a code block",
        "page.md:25: a directive on a sh block",
    ]
    blocks = {b.line: b for b in doc.blocks}
    assert blocks[15].not_run is None and blocks[15].namespace == ""
    assert blocks[20].namespace == "plain" and blocks[20].file == "main.py"
    assert [b.line for b in doc.runnable] == [2, 7, 15, 20]


def test_every_public_error_is_documented() -> None:
    """Each exception a user can catch is named in the docs, and the README's summary names the
    client's errors and the one a task definition raises."""
    import render_sdk.client.errors as client_errors
    import render_sdk.workflows as workflows

    public = [getattr(workflows, n) for n in workflows.__all__]
    public += [getattr(client_errors, n) for n in dir(client_errors) if not n.startswith("_")]
    errors = {e.__name__ for e in public if isinstance(e, type) and issubclass(e, Exception)}
    text = "\n".join(path.read_text() for path in (ROOT / "docs").rglob("*.md"))
    assert {e for e in errors if not re.search(rf"\b{e}\b", text)} == set()
    readme = (ROOT / "README.md").read_text()
    wanted = {
        e.__name__
        for e in public
        if isinstance(e, type)
        and issubclass(e, client_errors.RenderError)
        and e.__module__ == client_errors.__name__
    }
    wanted.add("TaskDefinitionError")
    assert {e for e in wanted if f"`{e}`" not in readme} == set()
