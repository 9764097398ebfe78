"""`python -m confirma_pipeline.cli`: the same as the `confirma-pipeline` console script."""

import sys

from confirma_pipeline.cli import main

sys.exit(main())
