"""Errors that name the input at fault and the fix, so nodes can report them as is."""

from __future__ import annotations


class TruePoseInputError(ValueError):
    """Bad user input. `input_name` is the node input at fault; `fix` tells the user what to do."""

    def __init__(self, input_name: str, problem: str, fix: str) -> None:
        self.input_name = input_name
        self.problem = problem
        self.fix = fix
        super().__init__(f"input '{input_name}': {problem} Fix: {fix}")
