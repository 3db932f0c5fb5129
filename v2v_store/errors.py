"""Typed errors. Library code raises these; the CLI turns them into messages and exit codes.

Every message names the bad value, what was expected, and how to fix it.
"""

import contextlib
import errno
import shutil
from typing import Callable, Iterator

LOW_SPACE_BYTES = 16 * 2**20  # a disk with less free after an engine's unnamed write error is taken as full


class V2VError(Exception):
    """Base class of every error v2v-store raises on purpose."""

    exit_code = 2


class InvalidURIError(V2VError, ValueError):
    """A store URI that cannot be parsed or uses an unknown scheme."""


class StoreNotFoundError(V2VError, FileNotFoundError):
    """The file, directory or collection a URI names does not exist."""


class DimensionMismatchError(V2VError, ValueError):
    """Vectors whose dimension does not fit the store or translator."""


class InvalidVectorsError(V2VError, ValueError):
    """NaN/inf, all-zero rows, duplicate ids, wrong shapes."""


class UnsupportedIndexError(V2VError):
    """An index that cannot give its vectors back, or an unsafe format (pickle)."""


class MissingDependencyError(V2VError, ImportError):
    """An optional package is needed for this feature."""


class StoreBusyError(V2VError):
    """A store another process holds open (qdrant-client local mode allows one process at a time)."""


class StoreChangedError(V2VError):
    """A store written by another process while it was read, in a way the read cannot follow."""


class StoreUnreachableError(V2VError):
    """A store server that cannot be reached (not running, wrong host or port, refused credentials)."""


class DiskFullError(V2VError):
    """A disk that filled up under a write, or that a migration's plan sees its vectors will not fit on."""


class DestinationExistsError(V2VError):
    """A write target that already holds data and no policy for it was given."""


class UntrustedTranslationError(V2VError):
    """Label-free diagnostics say the learned translator cannot be trusted."""

    exit_code = 3


class SpaceMismatchError(V2VError, ValueError):
    """Vectors that do not come from the model they are said to: pairs or anchors unlike their collection's model, or a
    collection unlike the translator space it is migrated or queried from."""


def lost_connection(error: BaseException) -> BaseException | None:
    """The network failure behind ``error``, if one is: a request of Chroma's HttpClient or qdrant-client's REST client
    (httpx, which qdrant-client wraps in its ResponseHandlingException) that could not connect, was cut or timed out.
    A server's own refusal (an HTTP error status) is no such failure."""
    import httpx

    return _first_in_chain(error, lambda e: isinstance(e, httpx.TransportError))


def lost_connection_message(cause: BaseException) -> str:
    """What to tell of a store's server lost mid-command (:func:`lost_connection`), and how to go on."""
    return (f"lost the connection to a store's server ({type(cause).__name__}: {cause}): check that it runs and can "
            "be reached (a busy Qdrant server: a longer ?timeout=SECONDS than its 60); a migration continues from its "
            "last checkpoint with the same command and --resume (resume=True)")


@contextlib.contextmanager
def naming_lost_connections() -> Iterator[None]:
    """Inside it, a store's server lost mid-call (:func:`lost_connection`) raises :class:`StoreUnreachableError` with
    the way on, not the HTTP client's own error."""
    try:
        yield
    except V2VError:
        raise
    except Exception as e:
        cause = lost_connection(e)
        if cause is None:
            raise
        raise StoreUnreachableError(lost_connection_message(cause)) from e


def disk_full(error: BaseException) -> BaseException | None:
    """The full disk behind ``error``, if one is: an OSError of no space or quota, SQLite's "database or disk is full"
    (Chroma, Qdrant local mode), or an engine's own error that says "No space left on device" (FAISS)."""
    return _first_in_chain(error, lambda e: (isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT))
                           or "No space left on device" in str(e) or "database or disk is full" in str(e))


def _first_in_chain(error: BaseException, test: Callable[[BaseException], bool]) -> BaseException | None:
    """The first of ``error`` and the errors it was raised from or while handling that passes ``test``."""
    seen: BaseException | None = error
    while seen is not None:
        if test(seen):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def free_bytes(directory: str | None) -> int | None:
    """Bytes free on the disk of ``directory`` (None: no local directory, or it cannot be told)."""
    try:
        return None if directory is None else shutil.disk_usage(directory).free
    except OSError:
        return None


def disk_full_message(cause: BaseException, directory: str | None = None, note: str = "") -> str:
    free = free_bytes(directory)
    return (f"the disk filled up ({type(cause).__name__}: {str(cause)[:300]})"
            + (f"; {directory} has {free / 2**20:.1f} MiB free" if free is not None else "")
            + ": free space (or write elsewhere), then run the same command again; a migration continues from its last "
            "checkpoint with --resume (resume=True)" + note)


@contextlib.contextmanager
def naming_full_disks(directory: str | None = None, note: str = "") -> Iterator[None]:
    """Inside it, a write that found its disk full (:func:`disk_full`, or an engine's unnamed error while the disk of
    ``directory``, where one writes, has under :data:`LOW_SPACE_BYTES` free) raises :class:`DiskFullError` with the
    way on (and ``note``), not the engine's own error."""
    try:
        yield
    except V2VError:
        raise
    except Exception as e:
        cause = disk_full(e)
        free = free_bytes(directory)
        if cause is None and free is not None and free < LOW_SPACE_BYTES:
            cause = e
        if cause is None:
            raise
        raise DiskFullError(disk_full_message(cause, directory, note)) from e
