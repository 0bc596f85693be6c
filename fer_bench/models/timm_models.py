"""Any timm model by name (`timm:resnet18`), with offline-only pretrained weights."""

from __future__ import annotations

import sys
from pathlib import Path

from torch import nn

from fer_bench.core.errors import FerBenchError
from fer_bench.models.registry import ModelCard, register_namespace


def cached_weights(name: str) -> str | None:
    """The local file of timm's default pretrained weights for `name`, if the HF cache has it.
    Looks only on disk: there is no network here, and a hub call would wait for time-outs."""
    import timm
    from huggingface_hub import try_to_load_from_cache
    cfg = timm.models.get_pretrained_cfg(name)
    hub_id = getattr(cfg, "hf_hub_id", None) if cfg is not None else None
    if not hub_id:
        return None
    for filename in ("model.safetensors", "pytorch_model.bin"):
        path = try_to_load_from_cache(hub_id, filename)
        if isinstance(path, str):
            return path
    return None


def create_timm(name: str, num_classes: int = 7, in_chans: int = 1,
                pretrained: bool | str = False) -> nn.Module:
    """timm.create_model(name, in_chans, num_classes); `pretrained` is False, True (the local
    timm/HF cache only) or a weights file. timm adapts a pretrained 3-channel stem to in_chans
    (summing the RGB kernels for one channel) and drops the mismatched head. The model's
    `pretrained_source` says what was loaded, None if nothing."""
    import timm
    if name not in timm.list_models():
        raise FerBenchError(f"unknown timm model {name!r} (see timm.list_models())")
    kw = dict(num_classes=num_classes, in_chans=in_chans)
    if isinstance(pretrained, str) and pretrained:
        if not Path(pretrained).is_file():
            raise FerBenchError(f"{pretrained}: pretrained weights file not found")
        file, source = pretrained, pretrained
    elif pretrained:
        file = cached_weights(name)
        source = f"timm/HF cache ({file})"
        if file is None:
            print(f"fer-bench: pretrained weights for {name} are not in the local timm/HF cache and there is "
                  "no network; training from scratch (record: pretrained false)", file=sys.stderr)
    else:
        file = None
    if file is None:
        model = timm.create_model(name, pretrained=False, **kw)
        model.pretrained_source = None
        return model
    model = timm.create_model(name, pretrained=True, pretrained_cfg_overlay={"file": file}, **kw)
    model.pretrained_source = source
    return model


def timm_card(name: str) -> ModelCard:
    return ModelCard(
        name=f"timm:{name}", paper=f"timm model {name}", year=None, source="timm",
        recipe="adam_baseline",
        interpretation=(f"timm.create_model('{name}', in_chans=1, num_classes=7) at 48x48 input.",),
        tags=("timm",),
    )


register_namespace("timm", timm_card, create_timm)
