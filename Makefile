# fer-bench. `make install` then `make test`; `make bench` runs the main job.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DATA   ?= data/fer2013
SHARED_DATA := ../shared/data/fer2013
export FER_BENCH_DATA ?= $(DATA)

SUITE  ?= paper-repro

NATURAL_SRC ?= ../shared/data/natural

.PHONY: arena arena-v1 paper-budget best speedrun perf gpu-pack gpu-check ship natural install test test-slow lint bench bench-smoke leaderboard data-link report train-seed002 clean

install:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	@$(MAKE) --no-print-directory data-link

# data/fer2013 -> ../shared/data/fer2013 when that copy is beside the repo (gitignored).
data-link:
	@if [ ! -e data/fer2013 ] && [ -d $(SHARED_DATA) ]; then \
		mkdir -p data && ln -s ../$(SHARED_DATA) data/fer2013 && echo "data/fer2013 -> $(SHARED_DATA)"; fi

test:
	$(BIN)/ruff check fer_bench tests benchmarks
	$(BIN)/pytest -q

test-slow:
	$(BIN)/pytest -q -m slow

lint:
	$(BIN)/ruff check .

report:
	$(BIN)/fer-bench data report $(DATA)

# The foundation's acceptance run: seed-002 CNN, 10 epochs, on the real data.
train-seed002:
	$(BIN)/fer-bench train --model majeed_cnn --data $(DATA) --epochs 10 --seed 0

# The natural-expression test set, built once from the raw photos (data/ is gitignored).
natural:
	@if [ ! -f data/natural/manifest.csv ] && [ -d $(NATURAL_SRC) ]; then \
		$(BIN)/fer-bench natural build $(NATURAL_SRC) data/natural; fi

# The main job: run a suite (resumable: kill it and run it again), then write its leaderboard.
bench: natural
	$(BIN)/fer-bench bench $(SUITE) --data $(DATA)

# Every registered model on a small real subset, 1 epoch, 2 seeds: a few minutes.
bench-smoke: natural
	$(BIN)/fer-bench bench smoke --data $(DATA)

# fer-bench's own best recipe, 3 seeds (~50 min each here), then its FER+ label track.
best: natural
	$(BIN)/fer-bench bench best --data $(DATA) --keep-checkpoints
	$(BIN)/fer-bench bench best-ferplus --data $(DATA)

# The architecture arena v2: every architecture at its best under one equal Optuna tuning budget (8 trials of
# 5 epochs on half of Training), then 15 epochs x 3 seeds of its selected configuration (resumable; about 30 h
# on 2 cores, `fer-bench bench arena-tuned --dry-run` says what is left).
arena: natural
	$(BIN)/fer-bench bench arena-tuned --data $(DATA)

# Arena v1, the shared-recipe reference: every architecture, one recipe, 12 epochs, 3 seeds.
arena-v1: natural
	$(BIN)/fer-bench bench arena --data $(DATA)

# Every paper's model and recipe at the paper's own epoch budget (resumable).
paper-budget: natural
	$(BIN)/fer-bench bench paper-budget --data $(DATA)

# The FER-2013 speedrun (>= 70% in 20 min a seed) and its ablation rows: run it ALONE on the machine, since
# its verdict reads the training wall clock (resumable, but a resumed seed's minutes include the restart).
speedrun: natural
	$(BIN)/fer-bench bench speedrun --data $(DATA)

leaderboard:
	$(BIN)/fer-bench leaderboard $(SUITE)
	$(BIN)/fer-bench results

clean:
	rm -rf work .pytest_cache .ruff_cache

# The GPU check (benchmarks/gpu/): `make gpu-pack` here writes data/gpu/fer2013.npz.xz (the FER-2013 copy that
# fits beside the tree); `make gpu-check` on the GPU box runs without an install (its own python3 if there is no
# .venv) and writes $(GPU_OUT); on a machine without a GPU it says so and exits 0.
GPU_PY  := $(if $(wildcard $(BIN)/python),$(BIN)/python,python3)
GPU_OUT ?= results/gpu
gpu-pack:
	$(GPU_PY) benchmarks/gpu/pack.py
gpu-check:
	$(GPU_PY) benchmarks/gpu/check.py --out $(GPU_OUT)

# Ship a kept model with the package (fer_bench/assets/models/NAME/, float16, checked against the kept one):
# make ship MODEL=results/best/models/<run id> NAME=best
ship:
	$(BIN)/python -m fer_bench.use.shipped $(MODEL) --name $(NAME)

# Speed measurements (benchmarks/perf/*.py -> results/perf/*.md). Run them on an idle machine.
perf:
	$(BIN)/python benchmarks/perf/loading.py $(DATA)
	$(BIN)/python benchmarks/perf/precision.py
	$(BIN)/python benchmarks/perf/augment.py
	$(BIN)/python benchmarks/perf/augment_per_sample.py
	$(BIN)/python benchmarks/perf/overhead.py $(DATA)
	$(BIN)/python benchmarks/perf/evaluation.py
	$(BIN)/python benchmarks/perf/compile.py
	$(BIN)/python benchmarks/perf/resnet50.py
	$(BIN)/python benchmarks/perf/optimizer.py
	$(BIN)/python benchmarks/perf/time_to_accuracy.py
	$(BIN)/python benchmarks/perf/arena_budget.py
	$(BIN)/python benchmarks/perf/onnx_latency.py
	$(BIN)/python benchmarks/perf/speedrun_width.py
