"""The real latent codec for training: a frozen diffusers AutoencoderKL from a local folder (e.g.
stabilityai/sd-vae-ft-mse, downloaded by the user; nothing downloads here). Same duck-typed
interface as the PixelLatent stand-in (`channels`, `factor`, `encode`, `decode`).

`encode` returns the posterior's MEAN by default, not a sample: the target latent of an image is
then a fixed function of it, so the only randomness of a step stays the seeded noise / timesteps /
dropout of the loop (resume and DDP stay exact), and the SD VAE's posterior std is tiny anyway.
`sample_posterior=True` draws from it instead, with the caller's generator.

diffusers is an optional dependency (the `train` extra): it is imported only when a VAE is loaded.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from ..errors import TruePoseInputError

INPUT = "vae"  # the TrainConfig setting / command-line flag the folder comes from
INSTALL = "pip install -r requirements-train.txt (the training extras; diffusers>=0.30)."


def _vae_folder(path: Path) -> Path:
    """The folder holding the AutoencoderKL config: `path` itself, or `path/vae` for a whole diffusers pipeline."""
    if not path.is_dir():
        raise TruePoseInputError(
            INPUT, f"the VAE folder {path} does not exist.",
            "download a diffusers-format AutoencoderKL (e.g. stabilityai/sd-vae-ft-mse: config.json + "
            "diffusion_pytorch_model.safetensors) and pass its folder.",
        )
    for folder in (path, path / "vae"):
        config = folder / "config.json"
        if config.is_file():
            try:
                kind = json.loads(config.read_text()).get("_class_name")
            except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
                kind = None
            if kind != "AutoencoderKL":
                raise TruePoseInputError(
                    INPUT, f"{config} describes a {kind or 'unknown'} model, not an AutoencoderKL.",
                    "pass the folder of a diffusers AutoencoderKL (its config.json says \"_class_name\": \"AutoencoderKL\"), "
                    "e.g. stabilityai/sd-vae-ft-mse, or a diffusers SD pipeline folder with a vae/ subfolder.",
                )
            return folder
    raise TruePoseInputError(
        INPUT, f"{path} holds no config.json: not a diffusers model folder.",
        "pass a diffusers-format AutoencoderKL folder (config.json + diffusion_pytorch_model.safetensors), e.g. stabilityai/sd-vae-ft-mse.",
    )


class DiffusersVAE:
    def __init__(self, model: torch.nn.Module, sample_posterior: bool = False) -> None:
        self.model = model.eval().requires_grad_(False)
        config = model.config
        self.channels: int = int(config.latent_channels)
        self.factor: int = 2 ** (len(config.block_out_channels) - 1)
        self.scaling_factor = float(config.scaling_factor)
        self.shift_factor = float(getattr(config, "shift_factor", None) or 0.0)
        self.sample_posterior = sample_posterior

    @classmethod
    def from_folder(
        cls, path: str | Path, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32, sample_posterior: bool = False,
    ) -> DiffusersVAE:
        folder = _vae_folder(Path(path))
        try:
            from diffusers import AutoencoderKL
        except ImportError as e:
            raise TruePoseInputError(INPUT, f"a VAE needs the diffusers package, which is not installed ({e}).", INSTALL) from e
        try:
            model = AutoencoderKL.from_pretrained(folder, local_files_only=True, torch_dtype=dtype)
        except (OSError, ValueError, RuntimeError) as e:
            raise TruePoseInputError(
                INPUT, f"could not load the AutoencoderKL in {folder}: {e}",
                "check that the folder is complete (config.json + diffusion_pytorch_model.safetensors or .bin).",
            ) from e
        return cls(model.to(device), sample_posterior)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        return next(self.model.parameters()).dtype

    @torch.no_grad()
    def encode(self, images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """(B, 3, H, W) in [0, 1] -> scaled latents (B, channels, H/factor, W/factor), float32."""
        pixels = (images.to(self.device, self.dtype) * 2.0 - 1.0)
        posterior = self.model.encode(pixels).latent_dist
        latents = posterior.sample(generator) if self.sample_posterior else posterior.mean
        return ((latents.float() - self.shift_factor) * self.scaling_factor).to(images.device)

    @torch.no_grad()
    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """Scaled latents -> (B, 3, H, W) in [0, 1], float32."""
        unscaled = latents.float() / self.scaling_factor + self.shift_factor
        pixels = self.model.decode(unscaled.to(self.device, self.dtype)).sample
        return ((pixels.float() + 1.0) / 2.0).clamp(0.0, 1.0).to(latents.device)
