"""A chairman withdraws an issued certificate.

The workflow checks who revokes, records the revocation once (and audits it), tells the holder by SMS with the
reason, and stays findable in the Temporal Web UI (`SonodStatus = "revoked"`). Its id is `R-<certificate number>`,
never reused, so a certificate is revoked once.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.activities import Outbox, Registry
    from workflows.messages import Notice, Revocation, Revoked
    from workflows.policies import NOTIFY_POLICY, REGISTRY_POLICY
    from workflows.refusals import Refusal, refuse


def revocation_id(certificate_no: str) -> str:
    return f"R-{certificate_no}"


def check_revoker(revocation: Revocation) -> None:
    """The union's chairman, or whoever acts for the chairman there by delegation; else refused, and the workflow
    fails before anything is recorded."""
    if not revocation.actor.revokes_in(revocation.union):
        raise refuse(Refusal.NOT_REVOKER)


@workflow.defn
class CertificateRevocation:
    @workflow.run
    async def run(self, revocation: Revocation) -> Revoked:
        check_revoker(revocation)
        revoked = await workflow.execute_activity_method(Registry.revoke, revocation, **REGISTRY_POLICY)
        if revoked.contact is not None:  # once: the outbox keys it by (application, "revoked")
            await workflow.execute_activity_method(Outbox.notify, Notice(
                application_id=revoked.application_id, key="revoked", template="revoked", union=revocation.union,
                contact=revoked.contact, params={"certificate_no": revoked.certificate_no, "reason": revoked.reason},
            ), **NOTIFY_POLICY)
        return revoked
