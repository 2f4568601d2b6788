"""Timeouts and retries of each activity, named once."""

from __future__ import annotations

from datetime import timedelta
from typing import TypedDict

from temporalio.common import RetryPolicy


class Policy(TypedDict):
    """The options that `workflow.execute_activity_method(..., **POLICY)` takes from a policy, typed."""

    start_to_close_timeout: timedelta
    retry_policy: RetryPolicy


NID_POLICY = Policy(
    start_to_close_timeout=timedelta(seconds=15),
    retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=2.0,
                             maximum_interval=timedelta(seconds=30)),
)
PROJECT_POLICY = Policy(
    start_to_close_timeout=timedelta(seconds=10),
    retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=10)),
)
REGISTRY_POLICY = Policy(
    start_to_close_timeout=timedelta(seconds=20),
    retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=500), maximum_interval=timedelta(seconds=30)),
)
# Every failure of the issue is retried: a key that does not open (a wrong master key) or a full disk is mended by
# an operator, and the next attempt issues; `sonod ops stuck` shows the retrying application meanwhile.
ISSUE_POLICY = Policy(
    start_to_close_timeout=timedelta(seconds=60),
    retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=60)),
)
NOTIFY_POLICY = Policy(
    start_to_close_timeout=timedelta(seconds=30),
    retry_policy=RetryPolicy(initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=5)),
)
# A gateway's calls, each within SONOD_PAYMENT_TIMEOUT_S: an order is opened and closed however long the gateway
# is away (an operator mends its credentials meanwhile); one status query gives up after two minutes, and the
# payment conversation asks again later (workflows/payment.py).
PAYMENT_POLICY = Policy(
    start_to_close_timeout=timedelta(seconds=30),
    retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=60)),
)
STATUS_POLICY = Policy(
    start_to_close_timeout=timedelta(seconds=30),
    retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=20),
                             maximum_attempts=5, non_retryable_error_types=["GatewayRefused"]),
)
# A money receipt is asked for by someone waiting for it: a few quick tries; an unpaid fee is not retried
RECEIPT_POLICY = Policy(
    start_to_close_timeout=timedelta(seconds=30),
    retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=500), maximum_interval=timedelta(seconds=5),
                             maximum_attempts=5, non_retryable_error_types=["NotPaid"]),
)
# A print batch (workflows/printing.py): choosing and marking are quick registry writes; the render of up to
# MAX_BATCH certificates heartbeats after every chunk, so a worker that died is noticed in a minute and another
# renders the batch again from its start (the file is written whole or not at all)
PRINT_SELECT_POLICY = Policy(
    start_to_close_timeout=timedelta(seconds=60),
    retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30),
                             maximum_attempts=10),
)
PRINT_RENDER_POLICY = Policy(
    start_to_close_timeout=timedelta(minutes=15),
    retry_policy=RetryPolicy(initial_interval=timedelta(seconds=2), maximum_interval=timedelta(seconds=60),
                             maximum_attempts=5),
)
PRINT_HEARTBEAT = timedelta(seconds=60)
