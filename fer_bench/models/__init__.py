"""Model zoo: one file per paper. Importing this package registers every model."""

from fer_bench.models import (  # noqa: F401  (each module registers its models)
    bodapati_optimized_cnn,
    choudhari_fer_deep_learning,
    khaireddin_vgg,
    majeed_cnn_emotions,
    modern_backbones_48px,
    plugins,
    sahi_classifying_feelings,
    seelam_emotion_recognition,
    speedrun_vgg,
    timm_models,
)
from fer_bench.models.crops import CropAveraging  # noqa: F401  (the crop-averaging interface)
from fer_bench.models.registry import (  # noqa: F401  (the public API of fer_bench.models)
    Claim,
    ModelCard,
    count_macs,
    count_params,
    create_model,
    get_card,
    list_models,
    model_costs,
    register_model,
)

__all__ = ["Claim", "ModelCard", "count_macs", "count_params", "create_model", "get_card", "list_models",
           "register_model"]
