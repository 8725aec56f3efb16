"""Entry point of the ``cimq`` command.

Exit codes: 0 success, 1 a check failed (e.g. an RTL mismatch), 2 bad input or
usage. Bad input prints one line naming what is wrong.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import typer
from rich.markup import escape

from cimq.cli import commands
from cimq.cli.common import err_console
from cimq.errors import CheckFailed, CimqInputError

app = typer.Typer(
    name="cimq",
    help="Hardware-aware quantization, RTL and verification for memristor CIM accelerators.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Hardware-aware quantization, RTL and verification for memristor CIM accelerators."""


def _register_commands() -> None:
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(app)


_register_commands()


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (the console script exits with it).

    Usage errors are handled by click's standalone mode (exit 2, usage shown);
    cimq's own errors surface here as exceptions and are mapped to codes.
    """
    try:
        app(args=argv, prog_name="cimq")
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except CimqInputError as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        return 2
    except CheckFailed as exc:
        err_console.print(f"[bold red]check failed:[/] {escape(str(exc))}", soft_wrap=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
