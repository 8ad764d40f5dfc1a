"""Turn core input errors into messages that name the node, the input and the fix."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from ..truepose_core.errors import TruePoseInputError


class TruePoseNodeError(ValueError):
    pass


@contextlib.contextmanager
def node_errors(node_name: str) -> Iterator[None]:
    try:
        yield
    except TruePoseInputError as e:
        raise TruePoseNodeError(f"{node_name}: {e}") from None


def input_error(node_name: str, input_name: str, problem: str, fix: str) -> TruePoseNodeError:
    return TruePoseNodeError(f"{node_name}: {TruePoseInputError(input_name, problem, fix)}")


@contextlib.contextmanager
def for_input(input_name: str) -> Iterator[None]:
    """Core checks name the input they expect (e.g. 'pose_keypoint'); the node knows which of its
    inputs it passed in: re-label the error with that one."""
    try:
        yield
    except TruePoseInputError as e:
        if e.input_name == input_name:
            raise
        raise TruePoseInputError(input_name, e.problem, e.fix) from None
