"""The README against the repository: the node table is one table and names every node with the
display name the code registers; every repository path it cites exists."""

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text()


def _display_names() -> dict[str, str]:
    """NODE_DISPLAY_NAME_MAPPINGS of every nodes/ module, read from the source (no ComfyUI needed)."""
    names = {}
    for path in sorted((REPO / "nodes").glob("*.py")):
        for stmt in ast.parse(path.read_text()).body:
            if isinstance(stmt, ast.Assign) and any(getattr(t, "id", None) == "NODE_DISPLAY_NAME_MAPPINGS" for t in stmt.targets):
                if isinstance(stmt.value, ast.Dict) and stmt.value.keys:
                    names.update(ast.literal_eval(stmt.value))
    return names


def _node_table() -> list[str]:
    section = README.split("\n## Nodes\n", 1)[1].split("\n## ", 1)[0]
    lines = section.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| node |"))
    table = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        table.append(line)
    rest = "\n".join(lines[start + 2 + len(table):])
    assert not re.search(r"^\| \*\*.+\*\* `TruePose_", rest, re.M), "a node row after the table ended (a blank line splits it)"
    return table


def test_node_table_is_whole_and_matches_the_registered_display_names():
    rows = {}
    for line in _node_table():
        m = re.match(r"^\| \*\*(.+?)\*\* `(TruePose_\w+)` \|", line)
        assert m, line
        rows[m.group(2)] = m.group(1)
    assert rows == _display_names()


def test_cited_repository_paths_exist():
    cited = set(re.findall(r"\]\(((?:docs|workflows|scripts|tests|web|requirements)/[^)#\s]*)\)", README))
    cited |= set(re.findall(r"`((?:docs|workflows|scripts|tests|web|requirements|truepose_core|nodes)/[\w./-]+)`", README))
    missing = sorted(p for p in cited if "<" not in p and "*" not in p and not (REPO / p).exists())
    assert missing == []


def test_install_section_says_to_copy_the_sample_inputs_and_what_python_313_lacks():
    install = README.split("\n## Install\n", 1)[1].split("\n## ", 1)[0]
    assert "workflows/inputs/* ComfyUI/input/" in install
    assert "install.py" in install and "3.13" in install and "mediapipe==0.10.21" in install


def test_method_is_cited_from_the_repository():
    assert (REPO / "docs" / "METHOD.md").is_file()
    assert not re.search(r"(?<!docs/)METHOD\.md", README.replace("[docs/METHOD.md](docs/METHOD.md)", ""))
