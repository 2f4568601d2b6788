"""Issue 12, item 5: the tracking page's limit on wrong mobile numbers holds and cannot be turned on the owner.

The lookup folds Bengali digits, so the limit counts every spelling of one application number as that number; it
counts per address, so that a stranger's wrong guesses do not lock the owner out; and one address guessing across
many application numbers meets a ceiling of its own.
"""

from __future__ import annotations

import httpx
import pytest

from api.services.applications import WRONG_TRIES
from sonod.bengali import BN_DIGITS
from tests.security.test_login import behind_proxy, new_address  # noqa: F401 (a fixture)
from tests.stack import citizen
from tests.test_tracking_limits import UNION, WAITING, track

pytestmark = pytest.mark.asyncio(loop_scope="session")


def browser(stack, address: str) -> httpx.AsyncClient:
    """A citizen's browser at `address`, behind the deployment's proxy."""
    return httpx.AsyncClient(base_url=stack.http.base_url, timeout=10, headers={"X-Forwarded-For": address})


def spellings(application_id: str, n: int) -> list[str]:
    """`n` spellings of one number: the k-th writes the digits whose bit is set in k in Bengali."""
    digits = [i for i, c in enumerate(application_id) if c.isdigit()]
    assert 2 ** len(digits) > n
    out = []
    for k in range(1, n + 1):
        chars = list(application_id)
        for bit, i in enumerate(digits):
            if k >> bit & 1:
                chars[i] = BN_DIGITS[int(chars[i])]
        out.append("".join(chars))
    return out


async def awaiting(stack, index: int) -> tuple[str, str]:
    body = citizen(UNION, index)
    application_id = await stack.submitted(body)
    await stack.wait_for(application_id, *WAITING)
    return application_id, body["contact"]["mobile"]


async def test_bengali_digit_spellings_of_one_number_share_one_limit(stack, behind_proxy):  # noqa: F811
    application_id, mobile = await awaiting(stack, 5)
    async with browser(stack, new_address()) as guesser:
        for n, spelling in enumerate(spellings(application_id, 10)):
            assert (await track(guesser, spelling, f"0171{n:07d}")).status_code == 404
        refused = await track(guesser, application_id, mobile)
        assert refused.status_code == 429, refused.status_code


async def test_a_strangers_wrong_tries_do_not_lock_the_owner_out(stack, behind_proxy):  # noqa: F811
    application_id, mobile = await awaiting(stack, 6)
    async with browser(stack, new_address()) as stranger, browser(stack, new_address()) as owner:
        for n in range(12):
            expected = 404 if n < WRONG_TRIES.limit else 429
            assert (await track(stranger, application_id, f"0181{n:07d}")).status_code == expected, n
        assert (await track(stranger, application_id, mobile)).status_code == 429
        assert (await track(owner, application_id, mobile)).status_code == 200


async def test_one_address_guessing_across_numbers_meets_a_ceiling(stack, behind_proxy):  # noqa: F811
    application_id, mobile = await awaiting(stack, 7)
    async with browser(stack, new_address()) as guesser:
        for n in range(40):
            r = await track(guesser, f"A000000-{n:08X}", "01711000000")
            if r.status_code == 429:
                break
            assert r.status_code == 404
        else:
            pytest.fail("forty wrong tries on forty numbers from one address were all answered")
        assert (await track(guesser, application_id, mobile)).status_code == 429
    async with browser(stack, new_address()) as owner:
        assert (await track(owner, application_id, mobile)).status_code == 200
