# Two commands, each sets itself up the first time (a .venv with everything from requirements.txt):
#   make train   train the MLP GAN on the embedded MNIST, write grids, loss plot, GIF and checkpoints to runs/
#   make test    lint (ruff), then run the whole test suite, notebooks included (in fast mode)
# and: make site (the course website in site/, from README.md, docs/ and the chapters), make lab, make exercises
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: train test lint lab clean exercises site

$(STAMP): pyproject.toml requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

train: $(STAMP)
	$(BIN)/python -m gan_helpers train mnist-mlp --out runs/mnist-mlp-$$(date +%Y%m%d-%H%M%S)

test: lint
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .

exercises: $(STAMP)  # write the learner's copies, exercises/*.ipynb, from notebooks/
	$(BIN)/python scripts/make_exercises.py

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

site: $(STAMP)  # the course website (mkdocs.yml): open site/index.html; --strict fails on a broken link
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

clean:
	rm -rf $(VENV) runs site build
