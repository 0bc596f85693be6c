"""The package's layering: data flows files -> uint8 tensors -> augmentation -> module -> run record ->
aggregation -> leaderboard, and no module imports one above it (so no cycles either)."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "fer_bench"


def _layers() -> list[tuple[str, ...]]:
    """fer_bench.LAYERS, read from the source (importing the package would not show a stale folder)."""
    tree = ast.parse((PACKAGE / "__init__.py").read_text())
    node = next(n for n in tree.body if isinstance(n, ast.Assign) and n.targets[0].id == "LAYERS")
    return [tuple(ast.literal_eval(e)) for e in node.value.elts]


def _layer(module: str) -> int:
    top = module.split(".")[1] if "." in module else "__init__"
    if top == "__init__":
        return len(_layers()) - 1
    return next(i for i, names in enumerate(_layers()) if top in names)


def test_the_folders_are_the_layers():
    """Every sub-package is a layer and every layer but the command line's is a sub-package; the only modules
    at the top are the command line's."""
    listed = {name for names in _layers() for name in names}
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    top = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__"}
    assert packages <= listed, packages - listed
    assert top == set(_layers()[-1]), top
    assert listed == packages | top


def _imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("fer_bench"):
            out.add(node.module if node.module != "fer_bench" else f"fer_bench.{node.names[0].name}")
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("fer_bench")}
    return out


def _modules() -> dict[str, set[str]]:
    mods = {}
    for p in PACKAGE.rglob("*.py"):
        parts = p.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        mods[name] = _imports(p)
    return mods


def test_every_module_has_a_layer():
    for name in _modules():
        if name != "fer_bench":
            _layer(name)        # StopIteration names a module no layer lists


def test_no_module_imports_a_module_above_it():
    upward = [f"{m} -> {i}" for m, imps in _modules().items() if m != "fer_bench"
              for i in imps if i != "fer_bench" and _layer(i) > _layer(m)]
    assert not upward, upward


def test_there_is_no_import_cycle():
    mods = _modules()
    graph = {m: {i for i in imps if i in mods and i != m} for m, imps in mods.items()}
    state: dict[str, int] = {}

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for n in graph[m]:
            assert state.get(n) != 1, " -> ".join([*path[path.index(n):], n]) if n in path else n
            if n not in state:
                visit(n, [*path, n])
        state[m] = 2

    for m in graph:
        if m not in state:
            visit(m, [m])


def test_no_file_in_the_package_exceeds_300_lines():
    long = {str(p.relative_to(PACKAGE)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text().splitlines())) > 300}
    assert not long, long
