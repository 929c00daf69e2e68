"""The code blocks of README.md and docs/*.md, and how tests/docs/test_snippets.py runs them.

Every fenced ```python block is run, in the order of its document, against a real local engine
(``render-workflows dev`` serving the document's example app, real worker processes):

- **One namespace per document.** A document reads as a story: its blocks run one after the
  other in one namespace, so a block may use what an earlier block of the same document defined
  (``render``, ``app``, ``square``). Top-level ``await``, ``async with`` and ``async for`` work
  (one event loop per document). The process runs in the document's project directory, with
  ``RENDER_LOCAL_DEV_URL`` pointing ``Render()`` / ``RenderAsync()`` at its engine.
- **Files.** A block whose first line is ``# NAME`` (``# main.py``, ``# conftest.py``,
  ``# pyproject.toml``: any language) is also a file of the document's project directory,
  written before anything runs. The engine serves ``main:app`` from there: the document's own
  ``# main.py``, else the README's.
- **Tests.** A ``# test_*.py`` block is run with pytest in the project directory (a subprocess
  with its own pyproject.toml and conftest.py, as a user's suite would be) and all its tests must
  pass, none skipped. A ``test_*`` function defined by any other block is called right after the
  block (awaited when it is async), as pytest would call it.

Two directives, HTML comments on the line(s) right before a block, change that (they do not show
on GitHub):

- ``<!-- snippet: namespace NAME -->``: run the block in the document's namespace NAME instead
  (for example a plain-style app shown next to a context-style one under the same names).
- ``<!-- snippet: not run: REASON -->``: do not run the block (it needs Render's hosted API, or is
  deliberately partial). The reason is required, and such blocks are counted: keep them rare.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import inspect
import os
import re
import signal
import subprocess
import sys
import time
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

from markdown_it import MarkdownIt

ROOT = Path(__file__).resolve().parents[2]
PYTHON_INFO = {"python", "py", "python3"}
DIRECTIVE = re.compile(r"<!--\s*snippet:\s*(.*?)\s*-->", re.DOTALL)
DIRECTIVE_FORM = re.compile(r"(not run|namespace)\b[:\s]*(.*)", re.DOTALL)
FILE_HEADER = re.compile(r"#\s+([\w.-]+\.(?:py|toml|cfg|ini|txt|json|yaml))\b")
ENGINE_START_SECONDS = 120.0


def documents() -> list[Path]:
    """README.md and every Markdown file under docs/."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


@dataclass(frozen=True)
class Block:
    """One fenced code block of a document."""

    doc: Path
    line: int  # 1-based line of the opening fence
    lang: str
    code: str
    file: str | None = None  # "main.py" for a block that starts with "# main.py"
    namespace: str = ""
    not_run: str | None = None  # the reason, for a block marked not run

    @property
    def id(self) -> str:
        return f"{self.doc.relative_to(ROOT)}:{self.line}"

    @property
    def is_python(self) -> bool:
        return self.lang in PYTHON_INFO

    @property
    def is_test_file(self) -> bool:
        return self.file is not None and self.file.startswith("test_") and self.is_python


@dataclass
class Document:
    path: Path
    blocks: list[Block]
    problems: list[str]  # directives that are unknown, lack a reason, or mark no code block

    @property
    def runnable(self) -> list[Block]:
        return [b for b in self.blocks if b.is_python and b.not_run is None]


def misplaced(name: Path, pending: list[tuple[int, str]]) -> list[str]:
    return [f"{name}:{line}: '{d}' is not right before a code block" for line, d in pending]


def parse(path: Path) -> Document:
    """The code blocks of a Markdown file, with their directives."""
    text = path.read_text()
    tokens = MarkdownIt("commonmark").parse(text)
    blocks: list[Block] = []
    problems: list[str] = []
    pending: list[tuple[int, str]] = []  # directives waiting for their block
    name = path.relative_to(ROOT)
    for token in tokens:
        if token.type == "html_block":
            for found in DIRECTIVE.findall(token.content):
                pending.append((token.map[0] + 1 if token.map else 0, found))
            continue
        if token.type not in ("fence", "code_block"):
            if pending and token.type.endswith("_open") and token.level == 0:
                problems += misplaced(name, pending)
                pending = []
            continue
        assert token.map is not None
        lang = token.info.split()[0].lower() if token.info.strip() else ""
        first = token.content.splitlines()[0] if token.content else ""
        header = FILE_HEADER.match(first)
        options: dict[str, str] = {}
        for line, directive in pending:
            parsed = DIRECTIVE_FORM.match(directive)
            if parsed is None:
                problems.append(f"{name}:{line}: unknown directive '{directive}'")
            elif not parsed.group(2):
                problems.append(f"{name}:{line}: '{directive}' needs a reason or a name")
            else:
                options[parsed.group(1)] = parsed.group(2)
        if pending and lang not in PYTHON_INFO:
            problems.append(f"{name}:{pending[0][0]}: a directive on a {lang or 'plain'} block")
        pending = []
        blocks.append(
            Block(
                doc=path,
                line=token.map[0] + 1,
                lang=lang,
                code=token.content,
                file=header.group(1) if header else None,
                namespace=options.get("namespace", ""),
                not_run=options.get("not run"),
            )
        )
    problems += misplaced(name, pending)
    return Document(path, blocks, problems)


class Engine:
    """``render-workflows dev --port 0 --db :memory: main:app`` in a project directory."""

    def __init__(self, project: Path) -> None:
        self.project = project
        self.log = project.parent / f"{project.name}-engine.log"
        command = [sys.executable, "-m", "render_sdk.cli", "dev", "--port", "0"]
        command += ["--db", ":memory:", "main:app"]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        for name in ("RENDER_LOCAL_DEV_URL", "RENDER_USE_LOCAL_DEV", "RENDER_API_KEY"):
            env.pop(name, None)
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                command, cwd=project, stdout=out, stderr=subprocess.STDOUT, env=env
            )
        self.base_url = self._wait_until_listening()

    def _wait_until_listening(self) -> str:
        deadline = time.monotonic() + ENGINE_START_SECONDS
        while time.monotonic() < deadline:
            found = re.search(r"listening on (http://\S+)", self.output())
            if found:
                return found.group(1)
            if self.proc.poll() is not None:
                raise RuntimeError(f"the engine exited ({self.proc.returncode}):\n{self.output()}")
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(
            f"the engine did not start in {ENGINE_START_SECONDS} s:\n{self.output()}"
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class SnippetFailed(Exception):
    """A block failed; the message says which block and why."""


@dataclass
class DocumentRun:
    """A document's project directory, engine, event loop and namespaces; runs its blocks."""

    doc: Document
    project: Path
    engine: Engine | None = None
    loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)
    namespaces: dict[str, types.ModuleType] = field(default_factory=dict)
    outcome: dict[Block, BaseException | None] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"DocumentRun({self.doc.path.relative_to(ROOT)})"

    def start(self, readme_main: str) -> None:
        self.project.mkdir(parents=True)
        files = {b.file: b.code for b in self.doc.blocks if b.file and b.not_run is None}
        files.setdefault("main.py", readme_main)
        for name, code in files.items():
            (self.project / name).write_text(code)
        self.engine = Engine(self.project)

    def env(self) -> dict[str, str]:
        assert self.engine is not None
        return {"RENDER_LOCAL_DEV_URL": self.engine.base_url}

    def run(self, block: Block) -> None:
        """Run ``block``, after the blocks of its namespace that come before it (once each)."""
        for earlier in self.doc.runnable:
            if earlier == block:
                break
            if earlier.namespace != block.namespace or earlier.is_test_file:
                continue
            if earlier not in self.outcome:
                self._run_once(earlier)
            if self.outcome[earlier] is not None:
                raise SnippetFailed(
                    f"{block.id} continues {earlier.id}, which failed: {self.outcome[earlier]!r}"
                )
        self._run_once(block)
        error = self.outcome[block]
        if error is not None:
            raise error

    def _run_once(self, block: Block) -> None:
        try:
            if block.is_test_file:
                self._pytest(block)
            else:
                self._execute(block)
        except BaseException as exc:
            self.outcome[block] = exc
            if self.engine is not None and hasattr(exc, "add_note"):
                exc.add_note(
                    f"--- the engine's output (last 3000 characters) ---\n"
                    f"{self.engine.output()[-3000:]}"
                )
        else:
            self.outcome[block] = None

    def _namespace(self, name: str) -> types.ModuleType:
        if name not in self.namespaces:
            stem = re.sub(r"\W", "_", f"{self.doc.path.relative_to(ROOT)}_{name}")
            module = types.ModuleType(f"snippet_{stem}")
            sys.modules[module.__name__] = module
            self.namespaces[name] = module
        return self.namespaces[name]

    def _execute(self, block: Block) -> None:
        namespace = self._namespace(block.namespace).__dict__
        # Padded so that tracebacks show the document's own lines.
        source = "\n" * block.line + block.code
        code = compile(source, str(block.doc), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        before = {k: v for k, v in namespace.items() if k.startswith("test_")}
        if code.co_flags & inspect.CO_COROUTINE:
            self.loop.run_until_complete(eval(code, namespace))
        else:
            exec(code, namespace)
        for name, value in list(namespace.items()):
            if name.startswith("test_") and callable(value) and before.get(name) is not value:
                self._call_test(block, name, value)

    def _call_test(self, block: Block, name: str, test: object) -> None:
        assert callable(test)
        if inspect.signature(test).parameters:
            raise SnippetFailed(
                f"{block.id}: {name} takes fixtures; make the block a test file that pytest runs "
                "(first line '# test_NAME.py')"
            )
        result = test()
        if inspect.isawaitable(result):
            self.loop.run_until_complete(result)

    def _pytest(self, block: Block) -> None:
        assert block.file is not None
        report = self.project.parent / f"{self.project.name}-{block.file}.xml"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RENDER_", "PYTEST_"))}
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        command += ["--junitxml", str(report), block.file]
        done = subprocess.run(
            command, cwd=self.project, env=env, capture_output=True, text=True, timeout=240
        )
        suite = ElementTree.parse(report).getroot().find("testsuite") if report.exists() else None
        kinds = ("tests", "failures", "errors", "skipped")
        counts = {k: int(suite.get(k, "0")) if suite is not None else 0 for k in kinds}
        if (
            done.returncode != 0
            or not counts["tests"]
            or counts["failures"] + counts["errors"] + (counts["skipped"])
        ):
            raise SnippetFailed(
                f"{block.id}: pytest {block.file} in the document's project: exit status "
                f"{done.returncode}, {counts}\n{done.stdout[-6000:]}\n{done.stderr[-3000:]}"
            )

    def close(self) -> None:
        for module in self.namespaces.values():
            for value in list(vars(module).values()):
                self._close_client(value)
            sys.modules.pop(module.__name__, None)
        self.namespaces.clear()
        with contextlib.suppress(Exception):
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()
        if self.engine is not None:
            self.engine.stop()

    def _close_client(self, value: object) -> None:
        """Close a Render or RenderAsync client a block left open."""
        from render_sdk import Render, RenderAsync

        if isinstance(value, RenderAsync):
            with contextlib.suppress(Exception):
                self.loop.run_until_complete(value.aclose())
        elif isinstance(value, Render):
            with contextlib.suppress(Exception):
                value.close()


def all_documents() -> list[Document]:
    return [parse(path) for path in documents()]


def readme_main(docs: list[Document]) -> str:
    """The README's ``# main.py``: the example app of documents that define none."""
    readme = next(d for d in docs if d.path.name == "README.md" and d.path.parent == ROOT)
    return next(b.code for b in readme.blocks if b.file == "main.py")


def iter_blocks(docs: list[Document]) -> Iterator[Block]:
    for doc in docs:
        yield from doc.runnable
