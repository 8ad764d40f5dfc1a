"""A TAESD-architecture latent codec (Tiny AutoEncoder for SD: 4 latent channels, factor 8) that
we train ourselves, saved as ONE ComfyUI VAE file (models/vae) that the stock VAELoader reads.

ComfyUI recognises the file by its `taesd_decoder.1.weight` key and builds its own TAESD from the
`taesd_encoder.*` / `taesd_decoder.*` tensors plus the two scalars `vae_scale` / `vae_shift`:

    VAE.encode(pixels in [0, 1]) = E(pixels) / vae_scale + vae_shift
    VAE.decode(z)                = clamp(D((z - vae_shift) * vae_scale), 0, 1)

and an SD1.5 model then multiplies VAE latents by 0.18215 (its latent format) before diffusion.
`TAESDLatent` reproduces exactly that chain, so the latents we train the UNet on are the latents
ComfyUI gives it: diffusion latent = 0.18215 * (E(x) / vae_scale + vae_shift). The scalars are set
from the encoder's statistics so that diffusion latents have mean 0 and std 1.
"""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn

SD15_LATENT_SCALE = 0.18215  # comfy.latent_formats.SD15.scale_factor
WIDTH = 64
ENCODER_PREFIX, DECODER_PREFIX = "taesd_encoder.", "taesd_decoder."


def _conv(n_in: int, n_out: int, **kwargs) -> nn.Conv2d:
    return nn.Conv2d(n_in, n_out, 3, padding=1, **kwargs)


class _Clamp(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(x / 3) * 3


class _Block(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Sequential(_conv(channels, channels), nn.ReLU(), _conv(channels, channels), nn.ReLU(), _conv(channels, channels))
        self.skip = nn.Identity()
        self.fuse = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fuse(self.conv(x) + self.skip(x))


def taesd_encoder(latent_channels: int = 4, width: int = WIDTH) -> nn.Sequential:
    """Pixels in [0, 1] -> raw latents at 1/8 size. Layer indices = ComfyUI's key names."""
    c = width
    layers: list[nn.Module] = [_conv(3, c), _Block(c)]
    for _ in range(3):
        layers += [_conv(c, c, stride=2, bias=False), _Block(c), _Block(c), _Block(c)]
    return nn.Sequential(*layers, _conv(c, latent_channels))


def taesd_decoder(latent_channels: int = 4, width: int = WIDTH) -> nn.Sequential:
    """Raw latents -> pixels (about [0, 1]) at 8x size."""
    c = width
    layers: list[nn.Module] = [_Clamp(), _conv(latent_channels, c), nn.ReLU()]
    for _ in range(3):
        layers += [_Block(c), _Block(c), _Block(c), nn.Upsample(scale_factor=2), _conv(c, c, bias=False)]
    return nn.Sequential(*layers, _Block(c), _conv(c, 3))


def _widen(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Zero-pads a narrow TAESD half to ComfyUI's 64 channels: exact, as the net has no norms
    (padded channels stay 0 through conv, ReLU and upsampling)."""
    out = {}
    for key, small in state.items():
        shape = tuple(WIDTH if n > 4 else n for n in small.shape[:2]) + tuple(small.shape[2:])
        big = torch.zeros(shape, dtype=small.dtype)
        big[tuple(slice(0, n) for n in small.shape)] = small
        out[key] = big
    return out


def _narrow(state: dict[str, torch.Tensor], width: int) -> dict[str, torch.Tensor]:
    return {k: v[tuple(slice(0, width if n == WIDTH else n) for n in v.shape[:2])].clone() for k, v in state.items()}


class TAESD(nn.Module):
    """`encoder_width` / `decoder_width` < 64: a narrow net, saved zero-padded to 64 (same function)."""

    def __init__(self, latent_channels: int = 4, encoder_width: int = WIDTH, decoder_width: int = WIDTH) -> None:
        super().__init__()
        self.widths = (encoder_width, decoder_width)
        self.encoder = taesd_encoder(latent_channels, encoder_width)
        self.decoder = taesd_decoder(latent_channels, decoder_width)
        # ComfyUI's vae_scale / vae_shift (set by `calibrate`)
        self.register_buffer("vae_scale", torch.tensor(SD15_LATENT_SCALE))
        self.register_buffer("vae_shift", torch.tensor(0.0))

    @torch.no_grad()
    def calibrate(self, raw_latents: torch.Tensor) -> None:
        """Choose vae_scale / vae_shift so that 0.18215 * (raw / scale + shift) has mean 0, std 1."""
        mean, std = float(raw_latents.mean()), float(raw_latents.std())
        self.vae_scale.fill_(SD15_LATENT_SCALE * std)
        self.vae_shift.fill_(-mean / (std * SD15_LATENT_SCALE))

    def to_diffusion(self, raw: torch.Tensor) -> torch.Tensor:
        return SD15_LATENT_SCALE * (raw / self.vae_scale + self.vae_shift)

    def from_diffusion(self, z: torch.Tensor) -> torch.Tensor:
        return (z / SD15_LATENT_SCALE - self.vae_shift) * self.vae_scale

    def comfy_state_dict(self) -> dict[str, torch.Tensor]:
        out = {ENCODER_PREFIX + k: v for k, v in _widen(self.encoder.state_dict()).items()}
        out.update({DECODER_PREFIX + k: v for k, v in _widen(self.decoder.state_dict()).items()})
        out.update(vae_scale=self.vae_scale.clone(), vae_shift=self.vae_shift.clone())
        return out

    def save(self, path: str | Path, dtype: torch.dtype = torch.float16) -> Path:
        """One ComfyUI VAE file (models/vae). The two scalars stay float32."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tensors = {k: (v if k.startswith("vae_") else v.to(dtype)).detach().cpu().contiguous() for k, v in self.comfy_state_dict().items()}
        meta = {"truepose": "TAESD-architecture VAE trained on the synthetic people", "widths": f"{self.widths[0]},{self.widths[1]}"}
        save_file(tensors, str(path), metadata=meta)
        return path

    @classmethod
    def load(cls, path: str | Path) -> "TAESD":
        from safetensors import safe_open

        with safe_open(str(path), "pt") as f:
            widths = (f.metadata() or {}).get("widths", f"{WIDTH},{WIDTH}")
        encoder_width, decoder_width = (int(n) for n in widths.split(","))
        tensors = load_file(str(path))
        model = cls(int(tensors[DECODER_PREFIX + "1.weight"].shape[1]), encoder_width, decoder_width)
        for prefix, net, width in ((ENCODER_PREFIX, model.encoder, encoder_width), (DECODER_PREFIX, model.decoder, decoder_width)):
            part = {k[len(prefix):]: v.float() for k, v in tensors.items() if k.startswith(prefix)}
            net.load_state_dict(_narrow(part, width))
        model.vae_scale.fill_(float(tensors["vae_scale"]))
        model.vae_shift.fill_(float(tensors["vae_shift"]))
        return model


class TAESDLatent:
    """The latent interface of the training code (train/latent.py) over a TAESD file, in the
    latent space the SD1.5 model sees inside ComfyUI."""

    factor = 8

    def __init__(self, model: TAESD) -> None:
        self.model = model.eval().requires_grad_(False)
        self.channels = int(model.decoder[1].in_channels)

    @classmethod
    def from_file(cls, path: str | Path, device: torch.device | str = "cpu") -> "TAESDLatent":
        return cls(TAESD.load(path).to(device))

    @torch.no_grad()
    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) in [0, 1] -> (B, 4, H/8, W/8) diffusion latents."""
        return self.model.to_diffusion(self.model.encoder(images))

    @torch.no_grad()
    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        return self.model.decoder(self.model.from_diffusion(latents)).clamp(0.0, 1.0)
