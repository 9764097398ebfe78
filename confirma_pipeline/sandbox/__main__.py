"""`python -m confirma_pipeline.sandbox --port 8765 --provisioning-token TOKEN ...`"""

from __future__ import annotations

import argparse
import sys

from confirma_pipeline.errors import OperatorError
from confirma_pipeline.sandbox.cli import add_arguments, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m confirma_pipeline.sandbox", description=__doc__)
    add_arguments(parser)
    try:
        return run(parser.parse_args(argv))
    except OperatorError as exc:
        print(f"confirma sandbox: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
