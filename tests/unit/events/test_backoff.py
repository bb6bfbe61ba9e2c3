from datetime import timedelta

import pytest

from voxnumbers.events.delivery import DeliveryPolicy, backoff_delay


@pytest.mark.parametrize(
    ("attempts", "ceiling"),
    [(1, 2.0), (2, 4.0), (3, 8.0), (11, 2048.0), (12, 3600.0), (500, 3600.0)],
)
def test_the_ceiling_doubles_from_the_base_up_to_the_cap(attempts, ceiling):
    assert backoff_delay(attempts, 2.0, 3600.0, lambda: 1.0) == ceiling
    assert backoff_delay(attempts, 2.0, 3600.0, lambda: 0.0) == 0.0


def test_the_delay_is_a_random_share_of_the_ceiling():
    delays = {backoff_delay(5, 2.0, 3600.0) for _ in range(200)}
    assert all(0.0 <= d < 32.0 for d in delays)
    assert len(delays) > 150  # full jitter: spread, not a fixed step


def test_the_lease_outlasts_an_attempt():
    assert DeliveryPolicy(timeout_seconds=10).lease_duration == timedelta(seconds=50)
    assert DeliveryPolicy(lease=timedelta(seconds=5)).lease_duration == timedelta(seconds=5)
