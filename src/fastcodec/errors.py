"""The one exception fastcodec raises where MMPose 1.3.2 asserts.

fastcodec reports bad values with ``ValueError``; MMPose checks some of the same
conditions with ``assert`` (single-instance encoders, SPR's sigma pair, ...), and code
written against MMPose (its own test suite included) catches ``AssertionError`` there.
``MMPoseCheckError`` is both, so either ``except`` clause catches it, and its message
holds fastcodec's explanation followed by MMPose's own wording, so a test that matches
MMPose's message matches it too.
"""
from __future__ import annotations


class MMPoseCheckError(ValueError, AssertionError):
    """A bad value that MMPose rejects with an assertion: a ``ValueError`` and an
    ``AssertionError`` at once."""


def mmpose_check_error(explanation: str, mmpose_wording: str) -> MMPoseCheckError:
    """The error for a failed MMPose assertion: ``explanation`` (fastcodec's, naming the
    argument and what was expected and received), then MMPose's message."""
    return MMPoseCheckError(f'{explanation} [MMPose: {mmpose_wording}]')
