"""The ``v2v`` command line. Library code raises typed errors; this module turns them into a
one-line message on stderr and a non-zero exit status (2 bad input, 3 untrusted result)."""

from __future__ import annotations

import json
import logging
import sys
from functools import wraps
from typing import Callable

import typer

from v2v_store.errors import V2VError

app = typer.Typer(help="Move and query vector collections across embedding models without re-encoding.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
logger = logging.getLogger("v2v_store")


@app.callback()
def main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging.")) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def handles_errors(fn: Callable) -> Callable:
    """Turn V2VError (and argument errors) into a clear message and exit code, not a traceback."""

    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except V2VError as e:
            typer.echo(f"error: {e}", err=True)
            raise typer.Exit(e.exit_code) from None

    return wrapper


@app.command()
@handles_errors
def inspect(
    uri: str = typer.Argument(..., help="Store URI, e.g. faiss:///data/index.faiss or chroma:///data/db?collection=docs"),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of text."),
    sample: int = typer.Option(5, help="How many sample records to show."),
) -> None:
    """Count, dimension, metric, index type, sample ids/metadata and warnings of a store."""
    from v2v_store.connectors import open_store
    from v2v_store.inspect import inspect_store

    with open_store(uri) as store:
        if not store.exists():
            from v2v_store.errors import StoreNotFoundError

            raise StoreNotFoundError(f"{uri} does not exist: check the path and collection name")
        report = inspect_store(store, sample=sample)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), default=str))
        return
    typer.echo(f"{report.uri}\n  count: {report.count}\n  dim: {report.dim}\n  metric: {report.metric}\n"
               f"  index: {report.index_type}\n  mean norm (sample): {report.mean_norm:.4f}")
    for i, m, d in zip(report.sample_ids, report.sample_metadata, report.sample_documents):
        typer.echo(f"  - id={i!r} metadata={m!r} document={d!r}")
    for w in report.warnings:
        typer.echo(f"  warning: {w}")
