"""A duplicate copy (অনুলিপি) of an issued certificate.

The union's fee for a copy is read when the copy is admitted; the workflow then waits for it, paid through the
signed payment callback as an application's fee is (the callback names the copy's id as its `application_id`), and
has the copy made: the same certificate printed again from its stored PDF, marked a copy with the copy's date. Nothing
is signed or numbered again: the copy carries the certificate's own QR, which verifies as the certificate does.

The workflow's id is the copy's, `CP<yymmdd>-<random>`, never reused.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.activities import Copies
    from workflows.messages import (
        CopyMade,
        CopyOrder,
        CopyPayment,
        CopyRequest,
        CopyStatus,
        CopyView,
        PaymentIn,
    )
    from workflows.policies import ISSUE_POLICY, REGISTRY_POLICY
    from workflows.refusals import Refusal, refuse

COPY_PREFIX = "CP"


def is_copy_id(identifier: str) -> bool:
    return identifier.startswith(COPY_PREFIX)


@workflow.defn
class CertificateCopy:
    @workflow.init
    def __init__(self, request: CopyRequest) -> None:
        self.request = request
        self.order: CopyOrder | None = None
        self.payment: PaymentIn | None = None
        self.status = CopyStatus.AWAITING_PAYMENT
        self.made: CopyMade | None = None

    @workflow.run
    async def run(self, request: CopyRequest) -> CopyView:
        self.order = order = await workflow.execute_activity_method(Copies.admit, request, **REGISTRY_POLICY)
        if order.fee > 0 and not await self.paid_within(order.payment_expiry):
            self.status = CopyStatus.EXPIRED
            return self.view()
        self.status = CopyStatus.MAKING
        self.made = await workflow.execute_activity_method(Copies.make, CopyPayment(
            copy_id=request.copy_id, transaction_id=self.payment.transaction_id if self.payment else None),
            **ISSUE_POLICY)
        self.status = CopyStatus.MADE
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.view()

    async def paid_within(self, expiry: timedelta) -> bool:
        try:
            await workflow.wait_condition(lambda: self.payment is not None, timeout=expiry)
            return True
        except TimeoutError:
            return False

    @workflow.update
    async def admitted(self) -> CopyView:
        """The copy once admitted, with its fee (the API's answer to whoever asked for it)."""
        await workflow.wait_condition(lambda: self.order is not None)
        return self.view()

    @workflow.update
    async def pay(self, payment: PaymentIn) -> CopyView:
        self.check_payment(payment)
        self.payment = payment
        await workflow.wait_condition(lambda: self.status is not CopyStatus.AWAITING_PAYMENT)
        return self.view()

    @pay.validator
    def check_payment(self, payment: PaymentIn) -> None:
        order = self.order
        if order is None or order.fee == 0 or self.status is not CopyStatus.AWAITING_PAYMENT \
                or self.payment is not None:
            raise refuse(Refusal.NOT_AWAITING_PAYMENT, status=self.status.value)
        if payment.currency != order.currency or payment.amount != order.fee:
            raise refuse(Refusal.WRONG_FEE, fee=order.fee, currency=order.currency, amount=payment.amount,
                         paid_currency=payment.currency)

    @workflow.query
    def view(self) -> CopyView:
        order, made = self.order, self.made
        return CopyView(copy_id=self.request.copy_id, certificate_no=self.request.certificate_no,
                        union=order.union if order else None, fee=order.fee if order else None,
                        currency=order.currency if order else "BDT", status=self.status,
                        pdf_ref=made.pdf_ref if made else None)
