"""The model shipped inside the package, used when ``predict()`` is given no ``model=``."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from .errors import ModelNotFoundError

EMBEDDED_MODEL_DIR = "model"


def embedded_model_path() -> Path:
    folder = Path(str(resources.files("marsad").joinpath(EMBEDDED_MODEL_DIR)))
    if not (folder / "model.safetensors").is_file():
        raise ModelNotFoundError(
            "this marsad install ships no embedded model: pass model= a trained model folder "
            "(train one with `marsad train --config configs/<name>.yaml`) or a Hugging Face Hub name")
    return folder
