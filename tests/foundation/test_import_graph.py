"""The package's layers import one way (issue #12): a cycle or a layer reaching up fails here, not in a
reviewer's head.

Imports are read with `ast` from every module of confirma_pipeline, function-level ones included (an import
inside a function is still a dependency; it only hides the cycle from Python's import machinery)."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
from pathlib import Path

import pytest

import confirma_pipeline

PACKAGE = "confirma_pipeline"
ROOT = Path(confirma_pipeline.__file__).parent

#: layers that know nothing of orchestration, the push, the pull or the local environment
LIBRARY_LAYERS = ("api", "warehouse", "validation", "mapping")
UPPER_LAYERS = ("push", "pull", "run", "backfill", "defs", "cli", "local")

#: (importing module, imported module) pairs allowed despite the rules; none today. Name each with the reason.
EXCLUDED: frozenset[tuple[str, str]] = frozenset()

#: Module cycles that exist outside issue #12's slice, each closed by a function-level import (so Python
#: imports them fine); listed so that no NEW cycle comes in unnoticed. Remove an entry when its cycle goes.
KNOWN_CYCLES: frozenset[frozenset[str]] = frozenset(
    {
        # errors.py redacts secrets with settings.secret_values (import inside a function)
        frozenset({"confirma_pipeline.errors", "confirma_pipeline.settings"}),
        frozenset({"confirma_pipeline.errors", "confirma_pipeline.settings", "confirma_pipeline.vault"}),
    }
)


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every confirma_pipeline module `path` imports, anywhere in the file (relative imports resolved)."""
    return {name for name in _imported_names(path) if name == PACKAGE or name.startswith(PACKAGE + ".")}


def _imported_names(path: Path) -> set[str]:
    """Every module name `path` imports, anywhere in the file, ours and third-party (relative resolved)."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.add(target)
            # `from confirma_pipeline.sandbox import server` imports the module `...sandbox.server`
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def _graph() -> dict[str, set[str]]:
    return {_module_name(path): _imports(path) for path in sorted(ROOT.rglob("*.py"))}


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _violations(importers: tuple[str, ...], forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{module} imports {target}"
        for module, targets in _graph().items()
        if _layer(module) in importers
        for target in targets
        if _layer(target) in forbidden and (module, target) not in EXCLUDED
    )


def test_the_import_reader_sees_function_level_and_from_imports():
    """The reader itself: a function-level import and a `from package import module` both count (else the
    rules below would pass on a blind reader)."""
    graph = _graph()
    assert "confirma_pipeline.sandbox.server" in graph["confirma_pipeline.sandbox.cli"]  # inside run()
    assert "confirma_pipeline.validation.identifiers" in graph["confirma_pipeline.validation.reasons"]


def test_validation_never_imports_mapping():
    """mapping may read validation's rules (text lengths, identifiers, row hashes); never the reverse."""
    assert _violations(("validation",), ("mapping",)) == []


def test_library_layers_never_import_push_pull_defs_cli_or_local():
    assert _violations(LIBRARY_LAYERS, UPPER_LAYERS) == []


#: `defs/lib` is shared by every domain; the other packages under `defs/` are domains
SHARED_DEFS = "lib"


def _defs_domain(module: str) -> str | None:
    """`invoicing` for `confirma_pipeline.defs.invoicing.assets`; None outside a domain package."""
    parts = module.split(".")
    if (
        len(parts) > 2
        and parts[1] == "defs"
        and (ROOT / "defs" / parts[2]).is_dir()
        and parts[2] != SHARED_DEFS
    ):
        return parts[2]
    return None


def test_defs_domains_never_import_each_other():
    """Issue #12: each domain under `defs/` stands alone. One refers to another's assets by `dg.AssetKey` or
    string, never by importing it, so a domain can move, split or go without its neighbours noticing;
    shared helpers live in `defs/lib`."""
    graph = _graph()
    domains = {domain for module in graph if (domain := _defs_domain(module))}
    assert {"onboarding", "invoicing", "receivables", "accounting"} <= domains  # the reader finds them
    crossings = sorted(
        f"{module} imports {target}"
        for module, targets in graph.items()
        if (domain := _defs_domain(module))
        for target in targets
        if _defs_domain(target) not in (None, domain)
    )
    assert crossings == []


def test_sandbox_cli_and_server_do_not_import_each_other_both_ways():
    """cli -> server only: the shared constant, free_port and SandboxControl live in control_client.py."""
    graph = _graph()
    assert "confirma_pipeline.sandbox.cli" not in graph["confirma_pipeline.sandbox.server"]
    assert "confirma_pipeline.sandbox.server" not in graph["confirma_pipeline.sandbox.control_client"]
    assert "confirma_pipeline.sandbox.cli" not in graph["confirma_pipeline.sandbox.control_client"]


def test_no_import_cycle_between_modules():
    """No module reaches itself through imports (function-level imports included), apart from KNOWN_CYCLES."""
    graph = _graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for target in sorted(graph.get(module, ())):
            if target not in graph or target == module or module.startswith(target + "."):
                continue  # a name imported from a module, itself, or its own package (its __init__)
            if state.get(target) == 1:
                cycles.append(path[path.index(target) :] + [target])
            elif target not in state:
                visit(target)
        path.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)
    assert [" -> ".join(cycle) for cycle in cycles if frozenset(cycle) not in KNOWN_CYCLES] == []


def _distribution_name(name: str) -> str:
    """PEP 503's normal form: `pydantic_core`, `Pydantic-Core` and `pydantic.core` are one distribution."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared_runtime_distributions() -> set[str]:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    requirements = tomllib.loads((ROOT.parent / "pyproject.toml").read_text())["project"]["dependencies"]
    return {_distribution_name(re.match(r"[A-Za-z0-9._-]+", req).group()) for req in requirements}


def test_every_third_party_package_the_code_imports_is_declared():
    """What the package imports, pyproject declares (issue #9): a package that only arrives through another
    one (pydantic_core through pydantic, starlette through dagster-webserver) may change or leave with that
    one's next release, and its floor is nobody's. Top-level names map to distributions through the
    installed metadata (`stdnum` is python-stdnum)."""
    distributions = importlib.metadata.packages_distributions()
    imported = {name.partition(".")[0] for path in ROOT.rglob("*.py") for name in _imported_names(path)}
    third_party = sorted(imported - set(sys.stdlib_module_names) - {PACKAGE})
    declared = _declared_runtime_distributions()
    undeclared = {
        top: distributions.get(top, ["(no installed distribution)"])
        for top in third_party
        if not declared & {_distribution_name(d) for d in distributions.get(top, ())}
    }
    assert undeclared == {}
