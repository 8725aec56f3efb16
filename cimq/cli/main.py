"""Entry point of the ``cimq`` command.

Exit codes: 0 success, 1 a check failed (e.g. an RTL mismatch), 2 bad input or
usage. Bad input prints one line naming what is wrong.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import click
import typer

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


def _register_commands() -> None:
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(app)


_register_commands()


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (the console script exits with it)."""
    try:
        app(args=argv, standalone_mode=False, prog_name="cimq")
    except CimqInputError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", soft_wrap=True, markup=True)
        return 2
    except CheckFailed as exc:
        err_console.print(f"[bold red]check failed:[/] {exc}", soft_wrap=True)
        return 1
    except click.exceptions.Abort:
        err_console.print("aborted")
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
