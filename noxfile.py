"""Every developer and CI command of render_sdk.

nox -t ci              lint, types, generate_check, tests and interop: the README's test command
nox -s reliability     the engine's long reliability runs (CI runs them after nox -t ci)
nox -s e2e_postgres    the end-to-end suite with the engine on PostgreSQL (CI runs it too)
nox -s nodes           several engine nodes on one PostgreSQL database (CI runs it too)
nox -s demo            the main job: the local engine runs examples/, a client starts tasks
nox -s demo_nodes      the same on two engine nodes and a throwaway PostgreSQL (Debian's postgresql)
nox -s tests           the test suite (pass pytest arguments after --)
nox -s generate        rebuild generated/ from openapi.yaml
nox -s record          re-record the client's cassettes from a live local engine
nox -s bench           benchmarks (not tests); writes a JSON report
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import nox

ROOT = Path(__file__).parent
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"
nox.options.error_on_missing_interpreters = True
nox.options.sessions = ["lint", "types", "generate_check", "tests", "tests_oldest", "interop"]

PYTHON = "3.11"
GENERATOR = "openapi-python-client==0.28.4"
GENERATED = ROOT / "generated" / "render_api"


def install_project(session: nox.Session, extras: str = "engine,postgres,dev") -> None:
    session.install("-e", f".[{extras}]")


# The engine's long reliability runs (crashes under load, worker faults, orphans, SSE load): a
# session of their own, which CI (.ci/run) runs after the README's test command.
RELIABILITY_LONG = "tests/reliability/e1"


@nox.session(python=PYTHON, tags=["ci"])
def tests(session: nox.Session) -> None:
    """Run the test suite: unit, end-to-end (real engine and workers) and cassette replays."""
    install_project(session)
    args = session.posargs or ["-q", "-ra", "--ignore", RELIABILITY_LONG]
    session.run("pytest", *args, env={"VCR_RECORD_MODE": "none"})


@nox.session(python=PYTHON)
def reliability(session: nox.Session) -> None:
    """The engine's long reliability runs (run by CI after the README's test command)."""
    install_project(session)
    session.run("pytest", "-q", "-ra", RELIABILITY_LONG, *session.posargs)


# The end-to-end suite and the engine-crash run again with the engine on PostgreSQL (a throwaway
# cluster, tests/pg.py). A session of its own, run by CI after the README's test command, which
# already runs the PostgreSQL store's own tests and real engines on it
# (tests/unit/engine/front/test_engine_postgres.py) and has to stay within 10 minutes.
E2E_POSTGRES = ["tests/e2e", "tests/reliability/e1/test_engine_crash.py"]


@nox.session(python=PYTHON)
def e2e_postgres(session: nox.Session) -> None:
    """The end-to-end suite against one engine on PostgreSQL (run by CI)."""
    install_project(session)
    args = session.posargs or ["-q", "-ra", *E2E_POSTGRES]
    session.run("pytest", *args, env={"RENDER_TEST_ENGINE_STORE": "postgres"})


# Several `render-workflows dev` nodes on one PostgreSQL database (tests/nodes): real engine
# processes started, killed and stopped, and `nox -s demo_nodes` end to end, a few minutes in
# all; a session of its own, run by CI.
@nox.session(python=PYTHON)
def nodes(session: nox.Session) -> None:
    """Several engine nodes on one PostgreSQL database (run by CI)."""
    install_project(session)
    args = session.posargs or ["-q", "-ra", "tests/nodes"]
    session.run("pytest", "-m", "nodes", *args)


def _python310() -> str | None:
    """A Python 3.10 interpreter: on PATH, or one of pyenv's (this project's machines have one)."""
    candidates = sorted(Path.home().glob(".pyenv/versions/3.10.*/bin/python3.10"))
    if candidates:
        return str(candidates[-1])
    found = shutil.which("python3.10")
    return found if found and ".pyenv/shims" not in found else None


PYTHON_OLDEST = _python310()


@nox.session(python=PYTHON_OLDEST or "3.10", tags=["ci"] if PYTHON_OLDEST else [])
def tests_oldest(session: nox.Session) -> None:
    """The unit tests and cassette replays on the oldest supported Python."""
    install_project(session)
    args = session.posargs or ["-q", "-ra", "tests/unit", "tests/cassettes", "tests/worker"]
    session.run("pytest", *args, env={"VCR_RECORD_MODE": "none"})


@nox.session(python=PYTHON, tags=["ci"])
def lint(session: nox.Session) -> None:
    """ruff: lint and format check (generated/ is excluded)."""
    session.install("ruff==0.17.5")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHON, tags=["ci"])
def types(session: nox.Session) -> None:
    """mypy --strict on render_sdk/, and on tests/typing/ (whose expected errors are
    `# type: ignore[code]` comments: with warn_unused_ignores, one that is not needed fails)."""
    install_project(session)
    session.install("mypy==2.4.1")
    session.run("mypy")
    session.run("mypy", "--warn-unused-ignores", "tests/typing")


def _generate_into(session: nox.Session, out: Path) -> None:
    session.install(GENERATOR, "ruff==0.17.5")
    session.run(
        "openapi-python-client",
        "generate",
        "--path",
        str(ROOT / "openapi.yaml"),
        "--config",
        str(ROOT / "generator-config.yaml"),
        "--meta",
        "none",
        "--output-path",
        str(out),
        "--overwrite",
    )


@nox.session(python=PYTHON)
def generate(session: nox.Session) -> None:
    """Rebuild generated/ from openapi.yaml (the only writer of generated/)."""
    if GENERATED.exists():
        shutil.rmtree(GENERATED)
    _generate_into(session, GENERATED)


@nox.session(python=PYTHON, tags=["ci"])
def generate_check(session: nox.Session) -> None:
    """Fail when generated/ differs from what openapi.yaml produces."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "render_api"
        _generate_into(session, out)
        session.run("diff", "-r", "-x", "__pycache__", str(out), str(GENERATED), external=True)


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Benchmarks, not tests: this engine side by side with Celery + Redis and DBOS
    (docs/benchmarks.md).

    Installs what the baselines need on demand (Debian's redis-server, celery[redis], dbos); the
    engine on PostgreSQL and DBOS use a throwaway cluster of Debian's postgresql
    (tests/pgcluster.py).
    """
    install_project(session, "engine,postgres")
    session.install("py-spy", "playwright>=1.45")  # UI drives Debian's chromium, if installed
    session.run("python", "bench/run.py", *session.posargs)


@nox.session(python=PYTHON)
def bench_tests(session: nox.Session) -> None:
    """The bench runner's Celery + Redis tests (they install redis-server and celery[redis])."""
    install_project(session)
    session.install("celery[redis]")
    if shutil.which("redis-server") is None:
        session.run("apt-get", "update", "-q", external=True)
        session.run("apt-get", "install", "-y", "-q", "redis-server", external=True)
    session.run("pytest", "-q", "-m", "celery", "bench/tests", *session.posargs)


@nox.session(python=PYTHON)
def soak(session: nox.Session) -> None:
    """Long reliability runs (engine kills, SSE load, fuzzing); figures in docs/reliability.md."""
    install_project(session)
    session.run("pytest", "-m", "soak", "-s", "tests/reliability", *session.posargs)


@nox.session(python=PYTHON)
def audit(session: nox.Session) -> None:
    """pip-audit of the resolved dependency set (engine and dev extras).

    Needs PyPI's per-version JSON API or OSV; with --strict it fails on any vulnerability and on
    any package it could not check, so it cannot pass without auditing. Not in the ci tag: see
    docs/reliability.md (Dependency audit).
    """
    session.install("pip-audit==2.10.1", "uv")
    requirements = Path(session.create_tmp()).resolve() / "requirements.txt"
    session.run(
        "uv", "pip", "compile", "-q", "pyproject.toml",
        "--extra", "engine", "--extra", "dev", "-o", str(requirements),
    )  # fmt: skip
    session.run(
        "pip-audit", "--strict", "--progress-spinner", "off", "--disable-pip", "--no-deps",
        "-r", str(requirements),
    )  # fmt: skip


@nox.session(python=PYTHON)
def demo(session: nox.Session) -> None:
    """The main job: the local engine runs examples/, a client starts tasks and prints results."""
    install_project(session, "engine")
    session.run("python", "examples/demo.py", *session.posargs)


@nox.session(python=PYTHON)
def demo_nodes(session: nox.Session) -> None:
    """Two engine nodes on a throwaway PostgreSQL cluster (Debian's postgresql package): runs
    started through one node are followed to their end through the other (examples/demo_nodes.py).
    """
    install_project(session, "engine,postgres")
    # On Ctrl-C the demo stops both nodes and the cluster: give it the time (nox's default is
    # 0.3 s before SIGTERM).
    session.run(
        "python", "examples/demo_nodes.py", *session.posargs,
        interrupt_timeout=120, terminate_timeout=30,
    )  # fmt: skip


@nox.session(python=PYTHON, tags=["ci"])
def interop(session: nox.Session) -> None:
    """Render's published SDKs, each in a virtualenv of its own, against this engine:
    render_sdk 0.6.0, and render 1.5.0 (with render-sdk 1.5.0, its compatibility name).

    (a) their workers run under `render-workflows dev -- render-workflows main:app`;
    (b) their Render and RenderAsync clients drive this engine;
    (c) the 1.5.0-style workflow also runs under this SDK's own worker (tests/e2e).
    """
    install_project(session)
    session.install("uv")
    tmp = Path(session.create_tmp()).resolve()
    pythons = {}
    for env_name, folder, packages in (
        ("RENDER06_PYTHON", "render_sdk_0_6_0", ["render_sdk==0.6.0"]),
        ("RENDER15_PYTHON", "render_1_5_0", ["render==1.5.0", "render-sdk==1.5.0"]),
    ):
        python = tmp / folder / "bin" / "python"
        if not python.exists():
            session.run("uv", "venv", "-q", "--python", PYTHON, str(tmp / folder))
        session.run("uv", "pip", "install", "-q", "--python", str(python), *packages)
        pythons[env_name] = str(python)
    session.run(
        "pytest",
        "-q",
        "-ra",
        "tests/interop",
        "tests/e2e/test_context_style.py",
        *session.posargs,
        env=pythons,
    )


@nox.session(python=PYTHON)
def record(session: nox.Session) -> None:
    """Re-record tests/cassettes/data/ from a live local engine (started by the tests)."""
    install_project(session)
    data = ROOT / "tests" / "cassettes" / "data"
    if data.exists():
        shutil.rmtree(data)
    session.run("pytest", "-q", "tests/cassettes", env={"VCR_RECORD_MODE": "all"})
