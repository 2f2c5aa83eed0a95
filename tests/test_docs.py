"""Every Python code block in docs/*.md and README.md runs, so the docs stay true."""
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
FILES = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]
BLOCK = re.compile(r"```python\n(.*?)```", re.S)

CASES = [(f, i, code) for f in FILES for i, code in enumerate(BLOCK.findall(f.read_text()))
         if "import mlxpy" in code]


@pytest.mark.parametrize("path,i,code", CASES, ids=[f"{c[0].name}-{c[1]}" for c in CASES])
def test_code_block_runs(path, i, code):
    exec(compile(code, f"{path.name}[block {i}]", "exec"), {"__name__": "__docs__"})


def test_docs_have_code_blocks():
    assert len(CASES) >= 4


def test_docs_site_builds_without_warnings(tmp_path):
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings")
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                          str(tmp_path / "site")], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "WARNING" not in out.stderr, out.stderr[-3000:]
    assert (tmp_path / "site" / "api" / "index.html").exists()
