"""The ``tripose`` command line: parses arguments and calls the library (no logic here).

Each subcommand lives in ``tripose/commands/<name>.py`` and registers itself on :data:`app`.
Errors caused by the user's input (``InputError``, missing files, bad options) are printed as
one clear line without a traceback and exit with status 2.
"""

from __future__ import annotations

import logging

import typer

from calibration.errors import CalibrationError, InputError

from . import __version__

app = typer.Typer(
    name="tripose",
    help="Synchronized multi-camera videos to 3D skeletons: calibrate, 2D pose, triangulate, "
    "render.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tripose {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log more detail."),
) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for package in ("tripose", "calibration", "triangulate", "pose2d", "viz3d"):
        logging.getLogger(package).setLevel(logging.DEBUG if verbose else logging.INFO)


def _register() -> None:
    """Import every command module; each registers its command on :data:`app`."""
    from .commands import (  # noqa: F401
        analyze,
        calibrate,
        demo,
        evaluate,
        export,
        extract_frames,
        init,
        label,
        run,
        synth,
        train,
        triangulate,
    )


_register()


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``tripose`` console script."""
    try:
        app(args=argv, standalone_mode=False)
    except (InputError, CalibrationError, FileNotFoundError, KeyError, ValueError) as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        typer.echo(f"error: {msg}", err=True)
        return 2
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        typer.echo("aborted", err=True)
        return 130
    except Exception as exc:
        # usage errors (click's or typer's vendored click: the same interface)
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):
            exc.show()
            return int(exc.exit_code)
        raise
    return 0

