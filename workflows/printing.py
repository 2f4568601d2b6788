"""A union office prints a batch of issued certificates: the secretary or the UDC operator chooses them (issued on a
day, of a type, of a ward, not printed yet), sonod makes one print-ready PDF of them (a cover that lists them, then
each certificate in the register's order, on plain paper or the union's letterhead) and marks them printed.

The choice is frozen first, so that the cover, the PDF and the marks say the same certificates. The render reports
its progress on the batch's row after every chunk (the page polls it) and `progress` answers where the batch is.
The id is `P-<union>-<random>` (sonod/printing.py), never reused.
"""

from __future__ import annotations

from enum import StrEnum

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from sonod.printing import PrintedBatch, PrintRequest
    from workflows.activities import Printing
    from workflows.policies import PRINT_HEARTBEAT, PRINT_RENDER_POLICY, PRINT_SELECT_POLICY


class PrintStage(StrEnum):
    SELECTING = "selecting"
    RENDERING = "rendering"
    MARKING = "marking"
    DONE = "done"


@workflow.defn
class PrintBatch:
    @workflow.init
    def __init__(self, request: PrintRequest) -> None:
        self.stage = PrintStage.SELECTING

    @workflow.run
    async def run(self, request: PrintRequest) -> PrintedBatch:
        chosen = await workflow.execute_activity_method(Printing.select, request, **PRINT_SELECT_POLICY)
        if chosen.total == 0:
            self.stage = PrintStage.DONE
            return await workflow.execute_activity_method(Printing.finish, chosen, **PRINT_SELECT_POLICY)

        self.stage = PrintStage.RENDERING
        made = await workflow.execute_activity_method(Printing.render, request, heartbeat_timeout=PRINT_HEARTBEAT,
                                                      **PRINT_RENDER_POLICY)
        self.stage = PrintStage.MARKING
        marked = await workflow.execute_activity_method(Printing.finish, made, **PRINT_SELECT_POLICY)
        self.stage = PrintStage.DONE
        return marked

    @workflow.query
    def progress(self) -> PrintStage:
        return self.stage
