"""The activities the workflow calls, as interfaces: each one's name and types, with no implementation.

The workflow, and whoever imports it for typed handles (the API, `sonod ops`, the tests), loads none of activities/
and none of what they import (reportlab, the database drivers, httpx). The worker registers the implementations in
activities/, which subclass these classes and keep each activity's name (tests/test_contract.py holds them to it).
"""

from __future__ import annotations

from temporalio import activity

from workflows.messages import (
    ApplicationInput,
    CertificateNumber,
    Delivered,
    Identity,
    IssuedCertificate,
    IssueRequest,
    NidCheck,
    Notice,
    NumberRequest,
    Projection,
    Revocation,
    Revoked,
    Submission,
)


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


class Issuer:
    """Sign, render and store the certificate (activities/issuer.py)."""

    @activity.defn(name="Issuer.issue")
    def issue(self, req: IssueRequest) -> IssuedCertificate:
        raise NotImplementedError


class Outbox:
    """SMS, mail and the officers' inbox (activities/outbox.py)."""

    @activity.defn(name="Outbox.notify")
    def notify(self, notice: Notice) -> Delivered:
        raise NotImplementedError
