"""What changed between two versions of a text, line by line, for editors to read.

One helper for every comparison an editor sees: revisions of an article in its history, and an
upstream change of an imported original beside the stored article.
"""

import difflib
from collections.abc import Sequence

# (kind, text): kind is "same", "removed", "added", or "gap" for unchanged lines left out.
DiffLine = tuple[str, str]


def line_diff(old: Sequence[str], new: Sequence[str], context: int = 1) -> list[DiffLine]:
    """The changed lines with `context` unchanged lines around each change, gaps marked "…"."""
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    lines: list[DiffLine] = []
    for number, group in enumerate(matcher.get_grouped_opcodes(context)):
        if number:
            lines.append(("gap", "…"))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines += [("same", line) for line in old[i1:i2]]
                continue
            lines += [("removed", line) for line in old[i1:i2]]
            lines += [("added", line) for line in new[j1:j2]]
    return lines
