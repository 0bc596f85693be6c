"""Training recipes. Importing this package registers every recipe."""

from fer_bench.recipes import fer_bench_own, papers  # noqa: F401  (each module registers its recipes)
from fer_bench.recipes.recipe import RECIPES, Recipe, get_recipe, register_recipe

__all__ = ["RECIPES", "Recipe", "get_recipe", "register_recipe"]
