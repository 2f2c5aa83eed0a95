"""A Griffe extension for the API reference: docstring examples become code blocks.

mlxpy's docstrings show examples as doctest sessions (`>>> ...` lines and their output).
Markdown reads those lines as nested quotes run together into one paragraph, and reads
`x[0]` in them as a link reference. Fencing each session keeps it verbatim, as code.
mkdocs.yml loads this file through mkdocstrings' `extensions` option.
"""
import griffe

PROMPT = ">>>"


def fence_doctests(text):
    """`text` with each doctest session (a `>>>` line up to the next blank line) fenced."""
    out, lines, k = [], text.split("\n"), 0
    while k < len(lines):
        line = lines[k]
        if not line.lstrip().startswith(PROMPT):
            out.append(line)
            k += 1
            continue
        indent = line[:len(line) - len(line.lstrip())]
        out.append(f"{indent}```pycon")
        while k < len(lines) and lines[k].strip():
            out.append(lines[k])
            k += 1
        out.append(f"{indent}```")
    return "\n".join(out)


class DoctestFences(griffe.Extension):
    """Fence the doctest sessions of every docstring Griffe loads."""

    def on_instance(self, *, obj, **kwargs):
        if obj.docstring is not None:
            obj.docstring.value = fence_doctests(obj.docstring.value)
