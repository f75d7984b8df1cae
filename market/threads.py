"""One BLAS thread while a model steps.

The model's matrix products are small (a few dozen offers × a block of customers, market/choice.py; dot products
over the demand sample, market/oracle.py). Measured here (benchmarks/bench_model.py, a 2-core machine), a
multi-threaded OpenBLAS spends more time starting and syncing threads on them than it saves — up to 30× slower
per entry when the cores are busy with other runs — and parallel runs (sweeps, games) already use every core.
So the model's steps run with BLAS limited to one thread; the limit is lifted when a step returns, leaving the
caller's own numpy work as it was.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from threadpoolctl import ThreadpoolController

_controller: ThreadpoolController | None = None


def one_blas_thread(method: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate ``method`` to run with BLAS limited to one thread (threadpoolctl; ~0.1 ms per call)."""

    @functools.wraps(method)
    def limited(*args: Any, **kwargs: Any) -> Any:
        global _controller
        if _controller is None:  # inspecting the loaded libraries once: it takes milliseconds
            _controller = ThreadpoolController()
        with _controller.limit(limits=1, user_api="blas"):
            return method(*args, **kwargs)

    return limited
