"""The README's command, configuration, stage and artifact references, generated from the code.

``python -m pipeline.docs`` rewrites the generated blocks of README.md (between
``<!-- generated: NAME -->`` and ``<!-- end: NAME -->``); ``--check`` only says whether
they are current (tests/test_docs.py runs it), so the README cannot drift from the
commands, settings, stages and catalog it documents.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import yaml

README = Path(__file__).resolve().parents[1] / "README.md"


def _click_command():
    import typer

    from .cli import app

    return typer.main.get_command(app)


def _usage(name: str, command) -> str:
    args = " ".join(p.name.upper() for p in command.params if p.param_type_name == "argument")
    opts = []
    for p in command.params:
        if p.param_type_name != "option" or p.name in {
            "out",
            "config",
            "set_",
            "verbose",
            "quiet",
            "help",
        }:
            continue
        flag = max(p.opts, key=len)
        opts.append(f"[{flag}]" if p.is_flag else f"[{flag} {p.name.upper().rstrip('_')}]")
    first = " ".join((command.help or "").strip().split("\n\n")[0].split())
    line = " ".join(x for x in (f"insights {name}", args, *opts) if x)
    return f"{line}\n    {first}"


def commands() -> str:
    """Every command with its arguments and own options, and the first line of its help."""
    root = _click_command()
    lines = []
    for name, command in root.commands.items():
        if hasattr(command, "commands"):  # a group: evaluate themes | segments
            for sub_name, sub in command.commands.items():
                lines.append(_usage(f"{name} {sub_name}", sub))
        else:
            lines.append(_usage(name, command))
    common = (
        "Every command on an output folder also takes --out OUT (default data/processed), "
        "--config FILE, --set KEY=VALUE (repeatable), -v / -q."
    )
    return "```\n" + "\n".join(lines) + "\n```\n\n" + common + "\n"


def _yaml_value(value: Any) -> str:
    return (
        yaml.safe_dump(value, default_flow_style=True, allow_unicode=True)
        .strip()
        .removesuffix("...")
        .strip()
    )


def configuration() -> str:
    """Every setting with its default and description, as the YAML a user would write."""
    from .core.config import Config, _Section

    lines = ["```yaml", "# insights.yaml: every setting, with its default"]

    def walk(model: type[_Section], defaults: Any, indent: str) -> None:
        for key, info in model.model_fields.items():
            value = getattr(defaults, key)
            if isinstance(value, _Section):
                lines.append(f"{indent}{key}:")
                walk(type(value), value, indent + "  ")
                continue
            text = _yaml_value(
                value.model_dump(mode="json") if hasattr(value, "model_dump") else value
            )
            if isinstance(value, list) and len(text) > 60:
                text = text[:57].rsplit(",", 1)[0] + ", ...]"
            note = f"  # {info.description}" if info.description else ""
            lines.append(f"{indent}{key}: {text}{note}")

    walk(Config, Config(), "")
    lines.append("```")
    return "\n".join(lines) + "\n"


def stages() -> str:
    """The stage registry as a table: command, what it reads and writes."""
    from .core.catalog import artifact
    from .core.registry import ORDER

    rows = ["| stage | command | reads | writes |", "|---|---|---|---|"]
    for s in ORDER:
        reads = ", ".join(f"`{artifact(n).path}`" for n in s.inputs) or "RAW_DIR"
        writes = ", ".join(f"`{artifact(n).path}`" for n in s.outputs)
        rows.append(f"| {s.name} | `{s.command}` | {reads} | {writes} |")
    return "\n".join(rows) + "\n"


def artifacts() -> str:
    """The catalog: every artifact's name, path, format and what it holds."""
    from .core.catalog import CATALOG

    rows = ["| artifact | path in OUT | format | made by | what |", "|---|---|---|---|---|"]
    for a in CATALOG.values():
        what = a.description or ", ".join(list(a.columns)[:6]) + (
            ", ..." if len(a.columns) > 6 else ""
        )
        rows.append(f"| {a.name} | `{a.path}` | {a.format} | {a.stage} | {what} |")
    return "\n".join(rows) + "\n"


BLOCKS = {
    "commands": commands,
    "configuration": configuration,
    "stages": stages,
    "artifacts": artifacts,
}


def render(text: str) -> str:
    """``text`` with every generated block replaced by what the code says now."""
    for name, make in BLOCKS.items():
        pattern = re.compile(rf"(<!-- generated: {name} -->\n).*?(<!-- end: {name} -->)", re.S)
        if not pattern.search(text):
            raise ValueError(f"README.md has no generated block '{name}'")
        body = make()
        text = pattern.sub(lambda m, body=body: m.group(1) + body + m.group(2), text)
    return text


def main(argv: list[str]) -> int:
    current = README.read_text(encoding="utf-8")
    wanted = render(current)
    if "--check" in argv:
        if wanted != current:
            print("README.md's generated blocks are stale: run `python -m pipeline.docs`")
            return 1
        return 0
    README.write_text(wanted, encoding="utf-8")
    print("README.md: generated blocks updated")
    return 0


if __name__ == "__main__":  # pragma: no cover - developer tool
    sys.exit(main(sys.argv[1:]))
