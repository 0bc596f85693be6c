"""Training recipes. Importing this package registers every recipe."""

from fer_bench.recipes import fer_bench_own, papers  # noqa: F401  (each module registers its recipes)
from fer_bench.recipes.recipe import (
    RECIPES,
    Recipe,
    apply_changes,
    define_recipe,
    get_recipe,
    recipe_keys,
    register_recipe,
    run_recipe,
)

__all__ = ["RECIPES", "Recipe", "apply_changes", "define_recipe", "get_recipe", "recipe_keys", "register_recipe",
           "run_recipe"]
