"""An application's money receipt (মানি রিসিট), asked for by whoever may see the application once its fee is paid.

The activity numbers the receipt once, renders its PDF and stores it; the API serves the stored file. The workflow's
id is `MR-<application id>`: asked for twice at once, the second asker waits on the first run; asked for again later,
the activity finds the receipt stored and answers at once.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.activities import Receipts
    from workflows.messages import IssuedReceipt, ReceiptRequest
    from workflows.policies import RECEIPT_POLICY


def receipt_workflow_id(application_id: str) -> str:
    return f"MR-{application_id}"


@workflow.defn
class MoneyReceipt:
    @workflow.run
    async def run(self, request: ReceiptRequest) -> IssuedReceipt:
        return await workflow.execute_activity_method(Receipts.issue, request, **RECEIPT_POLICY)
