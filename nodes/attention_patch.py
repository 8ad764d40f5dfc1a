"""One ComfyUI attention replace patch for every core runtime (HPFA in attn1, CAA in attn2):
ComfyUI's (q, k, v, extra_options) -> the core's (q, k, v, AttentionCall, host attention).

Whatever other patches did to the call before it reaches us is taken as it is:
- another pack's replace on the same block arrives as `host` and runs as ComfyUI would run it;
  the runtime adds TruePose's change on top (see patch_chain.py for how it gets there);
- an attn1_patch that merged q's tokens (ToMe) leaves no known grid: routing is off at that call;
- an attn1_patch that tiled q into the batch (HyperTile) while k/v stayed whole: k/v are viewed
  in the host's own layout (optimized_attention reshapes them to q's batch), every tile row
  reads its latent's source, unrouted;
- any other batch mismatch: TruePose stays out of that call.
"""

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

    def __call__(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, extra_options: dict, host=None) -> torch.Tensor:
        from comfy.ldm.modules import attention

        heads = extra_options["n_heads"]

        def host_attention(q_, k_, v_):
            return attention.optimized_attention(
                q_, k_, v_, heads, attn_precision=extra_options.get("attn_precision"), transformer_options=extra_options
            )

        chained = None if host is None else (lambda: host(q, k, v, extra_options))
        tiles = 1
        if q.shape[0] != k.shape[0] or k.shape[0] != v.shape[0]:
            tiles = q.shape[0] // k.shape[0] if k.shape[0] and q.shape[0] % k.shape[0] == 0 else 0
            if not tiles or k.shape[1] % tiles or v.shape[:2] != k.shape[:2]:
                return chained() if chained is not None else host_attention(q, k, v)
            k = k.reshape(q.shape[0], -1, k.shape[-1])
            v = v.reshape(q.shape[0], -1, v.shape[-1])
        block = extra_options["block"]
        sigmas = extra_options.get("sigmas")
        call = AttentionCall(
            block=(block[0], block[1], extra_options.get("block_index", 0)),
            heads=heads,
            grid=token_grid(extra_options, q.shape[1]) if tiles == 1 else None,
            cond_or_uncond=tuple(extra_options.get("cond_or_uncond", (0,))),
            sigma=float(sigmas.max()) if sigmas is not None else None,
            tiles=tiles,
        )
        try:
            return self.runtime(q, k, v, call, host_attention, chained)
        except TruePoseInputError as e:
            raise TruePoseNodeError(f"{self.node}: {e}") from None
