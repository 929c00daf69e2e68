"""The async service's method bodies, read as blocking code, equal the blocking service's.

``_sync.py`` and ``_async.py`` are twins: they may differ only in ``async``/``await`` and the
names of the async counterparts, except where listed in ``DIFFERENT`` with the reason.
"""

from __future__ import annotations

import ast
import inspect
import textwrap

import pytest

from render_sdk.client import _async, _sync

RENAMES = {
    "asyncio_detailed": "sync_detailed",
    "AsyncTaskRunEventStream": "TaskRunEventStream",
    "AsyncWorkflows": "Workflows",
    "aread": "read",
    "aclose": "close",
    "aiter_text": "iter_text",
}
# Methods whose bodies differ on purpose.
DIFFERENT = {
    "start_task": "the async twin returns an AwaitableTaskRun",
    "_wait": "the async twin shares event streams between concurrent waits",
    "__init__": "the async twin also builds its RunWaiter",
}


class Unasync(ast.NodeTransformer):
    def visit_Await(self, node: ast.Await) -> ast.AST:
        return self.visit(node.value)

    def visit_AsyncFor(self, node: ast.AsyncFor) -> ast.AST:
        self.generic_visit(node)
        return ast.For(node.target, node.iter, node.body, node.orelse, node.type_comment)

    def visit_Name(self, node: ast.Name) -> ast.AST:
        return ast.Name(RENAMES.get(node.id, node.id), node.ctx)

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        self.generic_visit(node)
        return ast.Attribute(node.value, RENAMES.get(node.attr, node.attr), node.ctx)


def body(function: object, *, unasync: bool) -> str:
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))  # type: ignore[arg-type]
    (definition,) = tree.body
    assert isinstance(definition, (ast.FunctionDef, ast.AsyncFunctionDef))
    statements = definition.body
    if (
        statements
        and isinstance(statements[0], ast.Expr)
        and isinstance(statements[0].value, ast.Constant)
    ):
        statements = statements[1:]  # the docstring
    module = ast.Module(body=statements, type_ignores=[])
    if unasync:
        module = Unasync().visit(module)
    return ast.dump(module)


def methods(cls: type) -> dict[str, object]:
    return {
        name: member
        for name, member in vars(cls).items()
        if inspect.isfunction(member) and name not in DIFFERENT
    }


def test_same_methods_apart_from_listed_differences() -> None:
    assert methods(_sync.Workflows).keys() == methods(_async.AsyncWorkflows).keys()


@pytest.mark.parametrize("name", sorted(methods(_sync.Workflows)))
def test_method_bodies_are_twins(name: str) -> None:
    sync_body = body(getattr(_sync.Workflows, name), unasync=False)
    async_body = body(getattr(_async.AsyncWorkflows, name), unasync=True)
    assert async_body == sync_body, name


def test_event_stream_generators_are_twins() -> None:
    assert body(_async._stream, unasync=True) == body(_sync._stream, unasync=False)
