"""Model zoo. Importing this package registers every model file."""

from fer_bench.models import majeed_cnn_emotions  # noqa: F401  (registers its models)
from fer_bench.models.registry import (
    Claim,
    ModelCard,
    count_params,
    create_model,
    get_card,
    list_models,
    register_model,
)

__all__ = ["Claim", "ModelCard", "count_params", "create_model", "get_card", "list_models",
           "register_model"]
