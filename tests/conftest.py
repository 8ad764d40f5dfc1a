"""Puts the repo root on sys.path so `truepose_core` imports as a plain package in unit tests, and
gives freed memory back to the OS after each test module."""

import ctypes
import ctypes.util
import gc
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))


def _malloc_trim():
    """glibc keeps the heap pages of freed tensors below its mmap threshold (model weights are many
    such tensors): without a trim the process's RSS stays at its peak for the rest of the session."""
    name = ctypes.util.find_library("c") if sys.platform.startswith("linux") else None
    trim = getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None
    return (lambda: trim(0)) if trim else (lambda: None)


_TRIM = _malloc_trim()


@pytest.fixture(scope="module", autouse=True)
def _release_memory_after_the_module():
    yield
    gc.collect()
    _TRIM()
