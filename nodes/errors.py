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
