"""TruePose core: the method in plain PyTorch, importable without ComfyUI."""

__version__ = "0.1.0"
