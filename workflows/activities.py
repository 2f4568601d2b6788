"""The activities the workflow calls, as interfaces: each one's name and types, with no implementation.

The workflow, and whoever imports it for typed handles (the API, `sonod ops`, the tests), loads none of activities/
and none of what they import (reportlab, the database drivers, httpx). The worker registers the implementations in
activities/, which subclass these classes and keep each activity's name (tests/test_contract.py holds them to it).
"""

from __future__ import annotations

from temporalio import activity

from sonod.printing import PrintedBatch, PrintRequest
from workflows.messages import (
    ApplicationInput,
    BrnCheck,
    CertificateNumber,
    CopyMade,
    CopyOrder,
    CopyPayment,
    CopyRequest,
    Delivered,
    Identity,
    IssuedCertificate,
    IssuedReceipt,
    IssueRequest,
    NidCheck,
    Notice,
    NumberRequest,
    PaymentOrderRef,
    Projection,
    ReceiptRequest,
    RemindersSent,
    RenewalReminders,
    Revocation,
    Revoked,
    Submission,
)
from workflows.payment_messages import Closed, Closing, Confirmation, NotificationRead, NotificationRef, OrderRequest


class Registry:
    """The union's rules, the read model and its audit entries, the certificate numbers (activities/registry.py)."""

    @activity.defn(name="Registry.admit")
    def admit(self, submission: Submission) -> ApplicationInput:
        raise NotImplementedError

    @activity.defn(name="Registry.project")
    def project(self, p: Projection) -> None:
        raise NotImplementedError

    @activity.defn(name="Registry.allocate_number")
    def allocate_number(self, req: NumberRequest) -> CertificateNumber:
        raise NotImplementedError

    @activity.defn(name="Registry.revoke")
    def revoke(self, revocation: Revocation) -> Revoked:
        raise NotImplementedError


class NidGateway:
    """Porichoy's NID check (activities/nid.py)."""

    @activity.defn(name="NidGateway.verify")
    async def verify(self, check: NidCheck) -> Identity:
        raise NotImplementedError


class BirthRegistry:
    """The Registrar General's birth registration lookup (activities/brn.py)."""

    @activity.defn(name="BirthRegistry.verify")
    async def verify(self, check: BrnCheck) -> Identity:
        raise NotImplementedError


class Issuer:
    """Sign, render and store the certificate (activities/issuer.py)."""

    @activity.defn(name="Issuer.issue")
    def issue(self, req: IssueRequest) -> IssuedCertificate:
        raise NotImplementedError


class Receipts:
    """Number, render and store an application's money receipt (activities/receipt.py)."""

    @activity.defn(name="Receipts.issue")
    def issue(self, req: ReceiptRequest) -> IssuedReceipt:
        raise NotImplementedError


class Copies:
    """Duplicate copies of issued certificates: the union's fee for one, then the copy made once
    (activities/copies.py)."""

    @activity.defn(name="Copies.admit")
    def admit(self, request: CopyRequest) -> CopyOrder:
        raise NotImplementedError

    @activity.defn(name="Copies.make")
    def make(self, payment: CopyPayment) -> CopyMade:
        raise NotImplementedError


class Outbox:
    """SMS, mail and the officers' inbox (activities/outbox.py)."""

    @activity.defn(name="Outbox.notify")
    def notify(self, notice: Notice) -> Delivered:
        raise NotImplementedError


class Payments:
    """The fee through the union's payment gateway: orders, the status call that alone confirms a payment, refunds
    of late payments, and the notifications read (activities/payments/orders.py)."""

    @activity.defn(name="Payments.open")
    async def open(self, request: OrderRequest) -> PaymentOrderRef:
        raise NotImplementedError

    @activity.defn(name="Payments.confirm")
    async def confirm(self, order: PaymentOrderRef) -> Confirmation:
        raise NotImplementedError

    @activity.defn(name="Payments.close")
    async def close(self, closing: Closing) -> Closed:
        raise NotImplementedError

    @activity.defn(name="Payments.read_notification")
    async def read_notification(self, ref: NotificationRef) -> NotificationRead:
        raise NotImplementedError


class LicenceRegister:
    """The trade licences' register: June's reminder to renew (activities/licences.py)."""

    @activity.defn(name="LicenceRegister.remind")
    def remind(self, batch: RenewalReminders) -> RemindersSent:
        raise NotImplementedError


class Printing:
    """A union office's print batch: the certificates chosen, one print-ready PDF of them, marked printed
    (activities/printing.py)."""

    @activity.defn(name="Printing.select")
    def select(self, request: PrintRequest) -> PrintedBatch:
        raise NotImplementedError

    @activity.defn(name="Printing.render")
    def render(self, request: PrintRequest) -> PrintedBatch:
        raise NotImplementedError

    @activity.defn(name="Printing.finish")
    def finish(self, batch: PrintedBatch) -> PrintedBatch:
        raise NotImplementedError
