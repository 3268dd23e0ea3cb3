"""The package's shape, kept: no import cycle, small modules, short functions (tests, benchmarks and
samples aside)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = [ROOT / "doodle", ROOT / "semantic_maps"]
MODULE_LINES, FUNCTION_LINES = 450, 80


def _modules() -> dict[str, ast.Module]:
    found = {}
    for package in PACKAGES:
        for path in package.rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = (path, ast.parse(path.read_text()))
    return found


def _imports(name: str, path: Path, tree: ast.Module, known: set[str]) -> set[str]:
    """The package modules ``name`` imports, at its top or inside its functions."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = ".".join(package[: len(package) - node.level + 1]) if node.level else ""
            module = ".".join(part for part in (base, node.module or "") if part)
            for alias in node.names:  # `from . import colors` imports a module
                candidate = f"{module}.{alias.name}"
                imported.add(candidate if candidate in known else module)
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
    return {module for module in imported if module in known and module != name}


def test_no_import_cycle_in_the_package():
    modules = _modules()
    graph = {name: _imports(name, path, tree, set(modules)) for name, (path, tree) in modules.items()}
    state: dict[str, str] = {}

    def visit(name: str, trail: list[str]) -> None:
        state[name] = "open"
        for other in sorted(graph[name]):
            assert state.get(other) != "open", "import cycle: " + " -> ".join([*trail, name, other])
            if other not in state:
                visit(other, [*trail, name])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [])


def test_modules_and_functions_stay_small():
    large = []
    for name, (path, tree) in _modules().items():
        lines = len(path.read_text().splitlines())
        if lines > MODULE_LINES:
            large.append(f"{name}: {lines} lines")
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > FUNCTION_LINES:
                    large.append(f"{name}.{node.name}: {length} lines")
    assert not large, large


def test_the_command_line_starts_without_the_extras_and_their_dependencies():
    """A lean install (``pip install -e .``) has none of the extras, nor what they bring (uvicorn brings
    click, which typer does not need: it vendors its own). ``doodle paint --help`` must run there."""
    import subprocess
    import sys

    extras = ["click", "starlette", "uvicorn", "ray", "imageio", "imageio_ffmpeg", "httpx", "httpx2", "selenium"]
    script = (
        "import sys\n"
        f"for name in {extras!r}:\n"
        "    sys.modules[name] = None  # import fails, as where it is not installed\n"
        "from doodle.cli import app\n"
        "app(['paint', '--help'], prog_name='doodle', standalone_mode=False)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "--guide" in done.stdout
