"""Shared fixtures of the core tests."""

import pytest
import torch


@pytest.fixture(scope="module")
def one_thread():
    """Tiny ops: extra threads only add contention on a shared CI box (and keep timings comparable)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
