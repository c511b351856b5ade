# Every target installs what it needs first, so a fresh clone needs nothing but `make <target>`.
SHELL := /bin/bash
NPM_FLAGS := --no-audit --no-fund

.PHONY: all install build lint test interop interop-matrix bench demo man clean

all: build

# Debian packages the tests and the bench use, as command:package; installed when missing.
# (chromium: the HTML export is opened in a real headless browser; zsh and fish: the completion
# scripts are run in them; postgresql: NDJSON records are loaded into a real server. Debian keeps
# its initdb off PATH, so that command is a glob, which the unquoted `command -v` below expands.)
SYSTEM_DEPS := zstd:zstd jq:jq /usr/bin/time:time chromium:chromium zsh:zsh fish:fish /usr/lib/postgresql/*/bin/initdb:postgresql

.deps-system:
	@missing=""; for d in $(SYSTEM_DEPS); do command -v $${d%%:*} >/dev/null || missing="$$missing $${d##*:}"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) || \
	  { echo "could not install$$missing: install them and retry" >&2; exit 1; }; \
	fi
	@touch $@

node_modules/.installed: package.json package-lock.json
	@# Prebuilt native binaries cannot be downloaded here: build them from source.
	npm_config_build_from_source=true npm ci $(NPM_FLAGS)
	@touch $@

install: node_modules/.installed .deps-system

# The tools are checked with the strictest flags; tests and the bench with one less (see tsconfig.tests.json).
build: install
	npx tsc -p tsconfig.json --noEmit
	npx tsc -p tsconfig.tests.json
	@chmod +x dist/cmd/*.js

# ESLint (type-checked: floating promises, misused promises, ...) and Prettier's formatting.
lint: install
	npx eslint .
	npx prettier --check .

# The whole suite, the real-Codex interop tests included (ROLLOUT_SKIP_INTEROP=1 leaves them out).
test: build
	npx tap

# Only the interop tests, against the pinned Codex (scripts/install-codex.sh) or `make interop
# CODEX_VERSION=x.y.z`: each version is installed into its own folder of a cache outside node_modules.
interop: build
	bash scripts/install-codex.sh >/dev/null
	npx tap --disable-coverage test/interop/*.test.ts

# The interop suite against one release of each stretch of Codex's history (MATRIX_VERSIONS="x y"
# for another set), one after the other; writes docs/compatibility.md from what held.
interop-matrix: build
	node dist/scripts/interop-matrix.js

demo: build
	node dist/scripts/demo.js

bench: build
	node dist/bench/run.js

man:
	@for f in man/*.md; do d=$$(git log -1 --format=%cs -- $$f 2>/dev/null); \
	  npx marked-man --no-breaks --date "$${d:-$$(date +%F)}" $$f > $${f%.md}.1; done

clean:
	rm -rf dist .tap coverage node_modules/.installed .deps-system
