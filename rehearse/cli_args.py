"""The command line's parsing pieces: a parser whose errors are one masked line, one flag per config field,
and the FAILED line every error ends in (exit 2; with --debug the traceback first, and still exit 2)."""

from __future__ import annotations

import argparse
import sys
import traceback
from dataclasses import fields

from dbserver.dsn import mask_text
from rehearse.measure.config import RehearsalConfig

EXIT_BAD_INPUT = 2


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line and exit 2, instead of argparse's usage block
        print(f"FAILED: {mask_text(message)}; see `{self.prog} --help`", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)


def config_flags(parser: argparse.ArgumentParser, only: tuple[str, ...] | None = None) -> None:
    """One flag per RehearsalConfig field, same name with dashes: the CLI cannot drift from the API."""
    kinds = {"float": float, "int": int, "int | None": int, "str": str, "str | None": str, "float | None": float}
    for f in fields(RehearsalConfig):
        if only is not None and f.name not in only:
            continue
        flag = "--" + f.name.replace("_", "-")
        if f.type == "bool":
            parser.add_argument(flag, action="store_true", default=None, help=f.metadata["help"])
        else:
            parser.add_argument(
                flag,
                type=typed(kinds[f.type], flag),
                default=None,
                metavar=f.name.upper(),
                help=f"{f.metadata['help']} (default {f.default})",
            )


def typed(kind, flag: str):
    def convert(text: str):
        try:
            return kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} takes a {kind.__name__}, got {text!r}") from None

    return convert


def failed(debug: bool, problem: str) -> int:
    """The one line (and with --debug the traceback first), passwords masked; exit 2 either way."""
    if debug:
        print(mask_text(traceback.format_exc()), file=sys.stderr)
    print(f"FAILED: {mask_text(problem)}", file=sys.stderr)
    return EXIT_BAD_INPUT
