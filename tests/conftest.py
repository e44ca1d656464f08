"""Shared fixtures."""
import resource

import pytest


@pytest.fixture(scope="module")
def memory_cap():
    """A wild allocation in IREE's interpreter must fail, not take the machine down."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (8 << 30, hard))
    yield
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


@pytest.fixture
def optimizing_tier(monkeypatch):
    """For tests of what the optimizing tier's code looks like (frames, folded constants,
    copy nests, disasm text): modules built without `tier=` use that tier whatever
    `SPLATJIT_TIER` says."""
    from splatjit import tiers
    monkeypatch.setenv(tiers.ENV, "optimizing")
