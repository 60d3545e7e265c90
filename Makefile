# The developer's verbs. `make run` and `make test` do all set-up on a fresh clone.
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
RASA  := $(PY) -m scripts.rasa
MODEL := models/current.tar.gz
# Everything the trained model depends on: config, domain, training data, the shop
# data (jieba dictionary, entity patterns) and the custom NLU components.
MODEL_INPUTS := config.yml bot/domain.yml $(shell find bot/data bot/shop/data bot/nlu bot/shop -type f \( -name '*.yml' -o -name '*.py' \) 2>/dev/null)

.PHONY: run shell test train setup lint validate test-unit test-stories test-nlu test-e2e bench clean browser help
WEB   := bot/web

run: $(MODEL) $(WEB)/node_modules/.installed   ## start the action server and the Rasa server
	$(PY) -m scripts.agent_credentials
	$(PY) -m scripts.run

shell: $(MODEL)               ## chat with the bot in the terminal
	$(PY) -m scripts.shell

train: $(MODEL)               ## train only if data or config changed

setup: $(VENV)/.installed $(WEB)/node_modules/.installed  ## .venv with the pinned requirements; the chat widget (npm)

test: lint validate test-unit test-stories test-nlu test-e2e   ## all of these, in this order

lint: $(VENV)/.installed      ## ruff check and ruff format --check (settings in pyproject.toml)
	$(PY) -m ruff check bot scripts tests bench
	$(PY) -m ruff format --check bot scripts tests bench

validate: $(VENV)/.installed  ## Rasa data validation; warnings fail
	$(PY) -m scripts.validate

test-unit: $(VENV)/.installed ## pytest tests/unit: components, actions, shop data, patches; no model, no servers
	$(PY) -m pytest -q tests/unit

test-stories: $(MODEL)        ## test stories end to end (NLU, predictions, then played to a running bot)
	$(PY) -m scripts.test_stories --model $(MODEL) --stories tests/stories --out results/core

# The real-language sets (tests/nlu_real), scored per language. The dev set we tune on must
# meet the goals of issue 10: intent accuracy 0.90, out-of-scope caught 0.80, in-scope
# rejected at most 0.05. The held-out test set nobody tunes on has floors a little under what
# the model reaches there (README, "How well it understands"), so a regression fails the build.
REAL_GOALS := --min-accuracy 0.90 --min-oos-caught 0.80 --max-rejected 0.05
HELD_OUT_FLOORS := --min-accuracy 0.85 --min-oos-caught 0.78 --max-rejected 0.09

test-nlu: $(MODEL)            ## NLU test sets through the patched runtime, scored per language against the goals
	$(RASA) --patched test nlu --model $(MODEL) --nlu tests/nlu --domain bot/domain.yml --out results/nlu --successes --no-plot
	$(PY) -m scripts.nlu_score results/nlu tests/nlu --min-accuracy 0.95
	$(RASA) --patched test nlu --model $(MODEL) --nlu tests/nlu_real/dev --domain bot/domain.yml --out results/nlu-real-dev --successes --no-plot
	$(PY) -m scripts.nlu_score results/nlu-real-dev tests/nlu_real/dev $(REAL_GOALS) --intents
	$(RASA) --patched test nlu --model $(MODEL) --nlu tests/nlu_real/test --domain bot/domain.yml --out results/nlu-real-test --successes --no-plot
	$(PY) -m scripts.nlu_score results/nlu-real-test tests/nlu_real/test $(HELD_OUT_FLOORS)

test-e2e: $(MODEL) $(WEB)/node_modules/.installed browser  ## pytest tests/e2e: real servers over HTTP, WeChat, console, browser
	$(PY) -m pytest -q tests/e2e

bench: $(MODEL)               ## OUR config beside Rasa's default config, one run
	$(PY) -m bench.run

$(VENV)/.installed: requirements.txt constraints.txt scripts/bootstrap.sh
	scripts/bootstrap.sh

# The website's chat widget (rasa-webchat) from the npm registry, locked by package-lock.json.
$(WEB)/node_modules/.installed: $(WEB)/package.json $(WEB)/package-lock.json
	cd $(WEB) && npm ci --ignore-scripts --omit=peer --no-audit --no-fund
	@touch $@

# Headless Debian chromium for the Playwright browser tests (CI runs as root on a fresh machine),
# and a Chinese font so the screenshots under var/screenshots/ are readable.
browser:
	@command -v chromium >/dev/null || { apt-get update && apt-get install -y chromium; }
	@fc-list :lang=zh 2>/dev/null | grep -q . || { apt-get update && apt-get install -y fonts-wqy-microhei; }

$(MODEL): $(VENV)/.installed $(MODEL_INPUTS)
	$(RASA) --patched train --domain bot/domain.yml --data bot/data --config config.yml --out models --fixed-model-name current --skip-validation
	@touch $(MODEL)

clean:                        ## remove models, results and run-time files (keeps .venv)
	rm -rf models results var/bench

help:                         ## this list
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-z0-9-]*:.*## / {printf "  make %-13s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
