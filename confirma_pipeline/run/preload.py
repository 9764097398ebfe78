"""Imported by the multiprocess executor's forkserver (see definitions.py), never by the code location itself
(it lives outside defs/, which the code location imports whole).

Why: each step process forked from the server builds the code location again (`defs()`), which imports every
module under defs/ and builds every asset: about 1.5 s per step on 2 cores. Building it once in the server
leaves those imports in every forked step's `sys.modules`, so a step's own `defs()` takes about 0.1 s. Building
the definitions reads no setting and opens no connection (resources do that when a step starts).
"""

from confirma_pipeline.definitions import defs

defs()
