"""Plain-text tables for management commands' reports."""


def text_table(header: list[str], rows: list[list[str]]) -> str:
    """`rows` under `header`, each column as wide as its widest cell, with a rule below the
    header; trailing spaces trimmed."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)
