# Fresh machine to running app or passing tests, in one command each: `make demo`, `make test`.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
# Debian packages Qt's xcb platform and Mesa's OpenGL need, plus Xvfb for headless runs.
APT_PACKAGES := xvfb xauth libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxkbcommon-x11-0 libgl1-mesa-dri libegl1 \
	libxcb-shape0 libxcb-render-util0 libxcb-image0 libxcb-randr0 libxcb-xinerama0 libxcb-xkb1 libfontconfig1 libdbus-1-3
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup system-deps demo test bench demo-assets clean

system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		if command -v apt-get >/dev/null; then \
			echo "installing system packages:$$missing"; \
			$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
		else echo "please install the equivalents of:$$missing"; fi; \
	fi

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# the CPU build of torch first: an unpinned torch on a fresh machine would pull a ~5 GB CUDA build
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[test]'
	touch $@

setup: system-deps $(VENV)/.installed

demo: setup
	$(VENV)/bin/r2l-train all --data demo --downscale 4 --preset tiny --out runs/demo/scene.ckpt

test: setup
	$(PY) -m pytest

clean:
	rm -rf $(VENV) runs .pytest_cache
