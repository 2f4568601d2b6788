"""A free-text attestation (বিবিধ প্রত্যয়নপত্র): its text is written by the officer of the union's chain who
verifies it (the secretary; the chairman where the chain has no secretary) and approved with that officer's
decision; the chairman approves it as written, and the certificate prints it as its body (activities/editions.py)."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from sonod.domain import DecisionKind, Role
    from workflows.messages import ApplicationInput, Decision
    from workflows.refusals import Refusal, refuse

ATTESTATION = "misc_attestation"  # the catalogue's type whose text an officer writes


def writer(app: ApplicationInput) -> Role | None:
    """The step whose approval carries the text; None for another type."""
    return writer_of(app.certificate_type, app.chain)


def writer_of(certificate_type: str, chain: list[Role]) -> Role | None:
    if certificate_type != ATTESTATION or not chain:
        return None
    return Role.SECRETARY if Role.SECRETARY in chain else chain[-1]


def check_attestation(app: ApplicationInput, step: Role | None, decision: Decision) -> None:
    """The writer's approval comes with the text, and with its English when an English certificate was asked for."""
    if step is None or step is not writer(app) or decision.kind is not DecisionKind.APPROVE:
        return
    if not (decision.text or "").strip():
        raise refuse(Refusal.TEXT_REQUIRED)
    if app.language != "bn" and not (decision.text_en or "").strip():
        raise refuse(Refusal.TEXT_EN_REQUIRED)


def attested(app: ApplicationInput, decisions: list[Decision]) -> Decision | None:
    """The writer's approval, which carries the text; None for another type. At issue the decisions are the chain's,
    one a step in its order (a return starts them again)."""
    step = writer(app)
    if step is None or len(decisions) != len(app.chain):
        return None
    return decisions[app.chain.index(step)]
