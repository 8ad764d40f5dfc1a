"""One ComfyUI attention replace patch for every core runtime (HPFA in attn1, CAA in attn2):
ComfyUI's (q, k, v, extra_options) -> the core's (q, k, v, AttentionCall, host attention)."""

from __future__ import annotations

import torch

from ..truepose_core.attention import AttentionCall
from ..truepose_core.errors import TruePoseInputError
from .errors import TruePoseNodeError
from .unet_blocks import token_grid


class AttentionPatch:
    """`runtime`: TruePoseAttention or CAAAttention (anything with that call and `release`)."""

    truepose_patch = True  # the SourceNet pass strips these from the model it runs

    def __init__(self, runtime, node: str = "TruePose_Apply") -> None:
        self.runtime = runtime
        self.node = node  # named in errors raised while sampling (ComfyUI shows them on the KSampler)

    def __deepcopy__(self, memo):
        # ModelPatcher.clone() deep-copies model_options: share the (immutable) bank, don't copy it.
        return self

    def release(self) -> None:
        self.runtime.release()

    def __call__(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, extra_options: dict) -> torch.Tensor:
        from comfy.ldm.modules import attention

        heads = extra_options["n_heads"]
        block = extra_options["block"]
        sigmas = extra_options.get("sigmas")
        call = AttentionCall(
            block=(block[0], block[1], extra_options.get("block_index", 0)),
            heads=heads,
            grid=token_grid(extra_options, q.shape[1]),
            cond_or_uncond=tuple(extra_options.get("cond_or_uncond", (0,))),
            sigma=float(sigmas.max()) if sigmas is not None else None,
        )

        def host_attention(q_, k_, v_):
            return attention.optimized_attention(
                q_, k_, v_, heads, attn_precision=extra_options.get("attn_precision"), transformer_options=extra_options
            )

        try:
            return self.runtime(q, k, v, call, host_attention)
        except TruePoseInputError as e:
            raise TruePoseNodeError(f"{self.node}: {e}") from None
