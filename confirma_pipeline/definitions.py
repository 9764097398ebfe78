"""The code location: everything under `defs/` plus the policies that apply to all of it.

The executor cap lives here, centrally: pools limit concurrent steps across runs, but inside
one run the multiprocess executor would otherwise fan out to the CPU count, so a single run
could still flood the API and the warehouse. The API client also rate-limits requests itself.
"""

from pathlib import Path

import dagster as dg

MAX_CONCURRENT_STEPS = 3


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions.merge(
        dg.load_from_defs_folder(path_within_project=Path(__file__).parent),
        dg.Definitions(
            executor=dg.multiprocess_executor.configured(
                {
                    "max_concurrent": MAX_CONCURRENT_STEPS,
                    # Steps fork from a server that has already imported and built the code location,
                    # instead of each paying a fresh interpreter's imports and a `defs()` (seconds per
                    # step on 2 cores; run/preload.py).
                    "start_method": {"forkserver": {"preload_modules": ["confirma_pipeline.run.preload"]}},
                }
            )
        ),
    )
