"""The one registration path for TruePose's patches on a MODEL: chain with other nodes' patches,
never overwrite them, never be overwritten.

TruePose's attention replaces are not stored in the MODEL's `patches_replace`. A DIFFUSION_MODEL
wrapper sets them for each UNet call, over whatever replace sits on the block in that call:
- a replace that was on the MODEL when sampling began (SAG, IPAdapter, another pack; placed
  before or after Apply TruePose; under the 3-tuple or the 2-tuple key) becomes TruePose's host
  attention: it runs as ComfyUI would run it, and TruePose adds its change on top;
- a replace that only one call carries (a pass-local override, e.g. PAG's perturbed pass through
  `set_model_options_patch_replace`) wins for that call: TruePose leaves that block alone there.
Other packs' patch objects stay exactly where they put them (IPAdapter keeps finding, and
`.add`ing to, its own Attn2Replace). Hosts without wrappers (before ComfyUI 0.3.10): the replaces
are set at Apply time, chained over what is there then.

One TruePose per MODEL: a later Apply TruePose replaces an earlier one on the same MODEL
(all of it: HPFA, CAA, pose guider) and says so in the log.
"""

from __future__ import annotations

import logging

from .sourcenet import SOURCE_PASS_FLAG

KEY = "truepose"
REPLACED_WARNING = (
    "Apply TruePose: this MODEL already carried TruePose from an earlier Apply TruePose node; the later node replaces it "
    "(one TruePose per MODEL). To read several sources, combine them with Merge Sources by Region before one Apply TruePose."
)


def _is_truepose(patch) -> bool:
    return bool(getattr(patch, "truepose_patch", False))


class ChainedAttention:
    """TruePose's patch over another replace (`host`) at one block, as ComfyUI calls a replace."""

    truepose_patch = True

    def __init__(self, patch, host) -> None:
        self.patch = patch
        self.host = host

    def __call__(self, q, k, v, extra_options):
        return self.patch(q, k, v, extra_options, host=self.host)


class TruePosePatches:
    """Everything one Apply TruePose puts on a MODEL. Shared between the MODEL's clones."""

    truepose_patch = True

    def __init__(self, attn1: dict | None = None, attn2: dict | None = None, input_block: list | None = None) -> None:
        self.attn1 = dict(attn1 or {})  # BlockKey -> AttentionPatch
        self.attn2 = dict(attn2 or {})
        self.input_block = list(input_block or [])
        self._persistent: list[set[int]] = []  # ids of the replaces on the MODEL, per running sampler
        self._chains: dict[tuple[str, tuple, int], ChainedAttention] = {}

    def __deepcopy__(self, memo):
        return self

    @property
    def patches(self) -> list:
        unique = {id(p): p for p in [*self.attn1.values(), *self.attn2.values(), *self.input_block]}
        return list(unique.values())

    def release(self) -> None:
        for patch in self.patches:
            patch.release()
        self._chains.clear()

    def outer_sample(self, executor, *args, **kwargs):
        """OUTER_SAMPLE wrapper: note which replaces the sampled MODEL carries; per-run caches freed
        before and after, also on error or interrupt."""
        options = getattr(executor.class_obj, "model_options", None) or {}
        replaced = options.get("transformer_options", {}).get("patches_replace", {})
        self._persistent.append({id(p) for table in replaced.values() for p in table.values()})
        self.release()
        try:
            return executor(*args, **kwargs)
        finally:
            self.release()
            self._persistent.pop()

    def diffusion_model(self, executor, x, timesteps, context, y, control, transformer_options, *args, **kwargs):
        """DIFFUSION_MODEL wrapper: TruePose's replaces for this one UNet call."""
        if not transformer_options.get(SOURCE_PASS_FLAG):
            transformer_options = self.compose(transformer_options)
        return executor(x, timesteps, context, y, control, transformer_options, *args, **kwargs)

    def compose(self, transformer_options: dict) -> dict:
        persistent = self._persistent[-1] if self._persistent else None
        replaced = dict(transformer_options.get("patches_replace", {}))
        for name, ours in (("attn1", self.attn1), ("attn2", self.attn2)):
            if not ours:
                continue
            table = dict(replaced.get(name, {}))
            for key, patch in ours.items():
                host = table.get(key, table.get(key[:2]))
                if host is not None and persistent is not None and id(host) not in persistent:
                    continue  # a pass-local override (PAG's perturbed pass): it wins for this call
                table[key] = self._chain(name, key, patch, host)
            replaced[name] = table
        out = dict(transformer_options)
        out["patches_replace"] = replaced
        return out

    def _chain(self, name: str, key: tuple, patch, host):
        if host is None:
            return patch
        cache_key = (name, key, id(host))
        chained = self._chains.get(cache_key)
        if chained is None or chained.host is not host:
            chained = self._chains[cache_key] = ChainedAttention(patch, host)
        return chained


def _wrappers_api():
    try:
        from comfy.patcher_extension import WrappersMP
    except ImportError:  # pre-0.3.10 host
        return None
    return WrappersMP if hasattr(WrappersMP, "DIFFUSION_MODEL") else None


def installed_truepose(model_patcher) -> TruePosePatches | None:
    """The TruePose patches a MODEL carries (from its last Apply TruePose), or None."""
    wrappers = _wrappers_api()
    if wrappers is not None and hasattr(model_patcher, "get_wrappers"):
        for wrapper in model_patcher.get_wrappers(wrappers.DIFFUSION_MODEL, KEY):
            owner = getattr(wrapper, "__self__", None)
            if isinstance(owner, TruePosePatches):
                return owner
    return model_patcher.model_options.get("transformer_options", {}).get(KEY)


def _remove(patched) -> bool:
    """Strip every TruePose patch from `patched` (a clone). -> whether there was any."""
    found = False
    wrappers = _wrappers_api()
    if wrappers is not None and hasattr(patched, "remove_wrappers_with_key"):
        for kind in (wrappers.DIFFUSION_MODEL, wrappers.OUTER_SAMPLE):
            found |= bool(patched.get_wrappers(kind, KEY))
            patched.remove_wrappers_with_key(kind, KEY)
    options = patched.model_options.setdefault("transformer_options", {})
    found |= options.pop(KEY, None) is not None
    for name, fns in list(options.get("patches", {}).items()):
        kept = [p for p in fns if not _is_truepose(p)]
        found |= len(kept) != len(fns)
        options["patches"][name] = kept
    for table in options.get("patches_replace", {}).values():
        for key, p in list(table.items()):
            if _is_truepose(p):
                found = True
                host = getattr(p, "host", None)
                if host is None:
                    del table[key]
                else:
                    table[key] = host
    return found


def register_truepose(patched, patches: TruePosePatches) -> None:
    """Put `patches` on `patched` (a clone), replacing any TruePose it already carried."""
    if _remove(patched):
        logging.warning(REPLACED_WARNING)
    if not patches.patches:
        return  # every strength 0: nothing to add
    for patch in patches.input_block:
        patched.set_model_input_block_patch(patch)
    wrappers = _wrappers_api()
    if wrappers is not None and hasattr(patched, "add_wrapper_with_key"):
        patched.add_wrapper_with_key(wrappers.OUTER_SAMPLE, KEY, patches.outer_sample)
        patched.add_wrapper_with_key(wrappers.DIFFUSION_MODEL, KEY, patches.diffusion_model)
        return
    patched.model_options.setdefault("transformer_options", {})[KEY] = patches
    replaced = patched.model_options["transformer_options"].setdefault("patches_replace", {})
    for name, ours in (("attn1", patches.attn1), ("attn2", patches.attn2)):
        table = replaced.setdefault(name, {})
        for (section, block_id, index), patch in ours.items():
            host = table.get((section, block_id, index), table.get((section, block_id)))
            table[(section, block_id, index)] = patch if host is None else ChainedAttention(patch, host)
