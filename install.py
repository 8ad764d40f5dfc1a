"""Make sure ONE OpenCV wheel provides cv2 for this pack. ComfyUI-Manager and comfy-cli run this file
after `pip install -r requirements.txt`; by hand: run it with ComfyUI's own python.

Why not a line in requirements.txt: opencv-python, opencv-python-headless, opencv-contrib-python and
opencv-contrib-python-headless all install the same cv2 folder, and pip treats them as unrelated.
Two of them in one environment overwrite each other, and uninstalling either breaks cv2 for both.
Peer packs pin different ones (comfyui_controlnet_aux requires opencv-python), so a fixed line here
would add a second wheel to many ComfyUI environments. The pack only needs cv2's core functions,
which every one of the four provides, so: keep whichever is installed; install opencv-python when
none is (what comfyui_controlnet_aux would bring, so installing it later adds nothing), and fall back
to opencv-python-headless where opencv-python cannot import (a server without libGL).
"""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata

OPENCV_WHEELS = ("opencv-python", "opencv-python-headless", "opencv-contrib-python", "opencv-contrib-python-headless")
PREFERRED, FALLBACK = "opencv-python>=4.8", "opencv-python-headless>=4.8"


def installed_opencv() -> list[str]:
    found = []
    for name in OPENCV_WHEELS:
        try:
            metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        found.append(name)
    return found


def plan(installed: list[str]) -> tuple[str | None, str | None]:
    """(what to pip install, a warning to print) for the OpenCV wheels found in the environment."""
    if not installed:
        return PREFERRED, None
    if len(installed) > 1:
        keep = "opencv-python" if "opencv-python" in installed else installed[0]
        others = " ".join(n for n in installed if n != keep)
        return None, (f"several OpenCV wheels share one cv2 folder here ({', '.join(installed)}); keep one: "
                      f"pip uninstall -y {others} && pip install --force-reinstall {keep}")
    return None, None


def _pip(*args: str) -> int:
    return subprocess.call([sys.executable, "-m", "pip", *args])


def _cv2_imports() -> bool:
    return subprocess.call([sys.executable, "-c", "import cv2"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) == 0


def main() -> int:
    wanted, warning = plan(installed_opencv())
    if warning:
        print(f"TruePose: {warning}")
    if wanted is None:
        return 0
    print(f"TruePose: no OpenCV in this environment, installing {wanted}")
    if _pip("install", wanted) == 0 and _cv2_imports():
        return 0
    print(f"TruePose: {wanted} does not import here (no libGL?); using {FALLBACK} instead")
    _pip("uninstall", "-y", "opencv-python")
    return _pip("install", FALLBACK)


if __name__ == "__main__":
    sys.exit(main())
