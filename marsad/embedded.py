"""The model shipped inside the package, used when ``predict()`` is given no ``model=``.

``python -m marsad.embedded runs/marsad-small/model-best`` copies a trained model into the
package as fp16 weights (MODEL_CARD.md gives the whole rebuild sequence).
"""

from __future__ import annotations

import argparse
from importlib import resources
from pathlib import Path

from .errors import ModelNotFoundError

EMBEDDED_MODEL_DIR = "model"


def _package_folder() -> Path:
    return Path(str(resources.files("marsad").joinpath(EMBEDDED_MODEL_DIR)))


def embedded_model_path() -> Path:
    folder = _package_folder()
    if not (folder / "model.safetensors").is_file():
        raise ModelNotFoundError(
            "this marsad install ships no embedded model: pass model= a trained model folder "
            "(train one with `marsad train --config configs/<name>.yaml`) or a Hugging Face Hub name")
    return folder


def export_embedded(trained: str | Path) -> Path:
    """Write the trained model folder ``trained`` into the package, weights in fp16."""
    from .model import MarsadModel

    folder = _package_folder()
    for old in folder.glob("*"):
        old.unlink()
    MarsadModel.from_pretrained(trained).save_pretrained(folder, half=True)
    return folder


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="ship a trained model as the package's embedded model")
    parser.add_argument("model", help="a trained model folder, e.g. runs/marsad-small/model-best")
    folder = export_embedded(parser.parse_args().model)
    size = sum(p.stat().st_size for p in folder.iterdir()) / 2**20
    print(f"embedded model written to {folder} ({size:.1f} MiB)")
