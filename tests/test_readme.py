"""The README's examples stay true: every name its Python example imports exists, and every option its command
lines give is one the CLI accepts."""

import importlib
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def code_blocks(language: str | None = None) -> list[str]:
    """The README's fenced code blocks (of ``language``, when given)."""
    blocks = re.findall(r"```(\w*)\n(.*?)```", README.read_text(), flags=re.S)
    return [body for lang, body in blocks if language is None or lang == language]


def test_every_name_the_python_example_imports_exists():
    imports = [line.strip() for body in code_blocks("python") for line in body.splitlines()
               if re.match(r"\s*(from \S+ import|import \S+)", line)]
    assert len(imports) >= 5, "the README's Python example is missing"
    for line in imports:
        match = re.match(r"from (\S+) import (.+)", line)
        if match is None:
            importlib.import_module(line.split()[1])
            continue
        module = importlib.import_module(match.group(1))
        for name in (n.strip() for n in match.group(2).split("#")[0].split(",")):
            assert hasattr(module, name), f"README: `{line}`: {match.group(1)} has no {name}"


def command_lines() -> list[tuple[str, set[str]]]:
    """(subcommand, the --options given) for each `v2v SUBCOMMAND ...` in the README's code blocks; an indented line,
    or one after a trailing backslash, continues the command above it."""
    found, current = [], None
    for body in code_blocks():
        for line in body.splitlines():
            start = re.match(r"\s*v2v (\w+(?: (?:list|prune|warm))?)", line)  # `v2v cache list`: a group's command
            if start:
                current = (start.group(1), set())
                found.append(current)
            elif current is None or not (line.startswith(" ") or line.startswith("\t")):
                current = None
                continue
            current[1].update(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", re.split(r"\s#\s", line)[0]))  # not "URI#space"
    return found


def test_every_option_of_the_readme_command_lines_is_one_the_cli_accepts():
    typer = pytest.importorskip("typer")
    from v2v_store.cli import app

    cli = typer.main.get_command(app)
    commands = command_lines()
    assert {"inspect", "fit", "migrate", "query"} <= {name for name, _ in commands}
    for name, options in commands:
        command = cli
        for word in name.split():
            assert word in command.commands, f"README: `v2v {name}` is not a command"
            command = command.commands[word]
        accepted = {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)}
        assert options <= accepted, f"README: `v2v {name}` has no option {sorted(options - accepted)}"


def test_the_command_list_gives_each_summary_as_one_paragraph():
    """`v2v --help` wraps each command's summary to the terminal, not at the docstring's line breaks (typer's rich
    help kept them, and a narrower terminal broke those lines again)."""
    typer = pytest.importorskip("typer")
    from typer.testing import CliRunner

    from v2v_store.cli import app

    listing = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "100"}, terminal_width=100).output.splitlines()
    rows = listing[next(i for i, line in enumerate(listing) if "Commands" in line) + 1:]
    summaries: dict[str, list[str]] = {}
    for line in rows:
        text = line.strip("│╰─╯ ")
        if not text:
            break
        if not line.startswith("│ " + " " * 6):  # a command's first line (then its summary's next lines)
            summaries[text.split()[0]] = []
        summaries[list(summaries)[-1]].append(text)
    assert {"inspect", "fit", "migrate", "evaluate", "query"} <= set(summaries), listing
    widest = max(len(line) for lines in summaries.values() for line in lines)
    for name, lines in summaries.items():  # every line but a summary's last filled to the width, give or take a word
        assert all(len(line) > widest - 25 for line in lines[:-1]), f"`v2v {name}`'s summary breaks early: {lines}"
    assert typer.main.get_command(app).commands["inspect"].help.startswith("Count, dimension")  # its page: whole
