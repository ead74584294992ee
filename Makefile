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

# torch is installed first, pinned. Set TORCH_INDEX to take it from that index, e.g. PyTorch's CPU builds:
#   make test TORCH_INDEX=https://download.pytorch.org/whl/cpu
# Without it pip uses its usual sources: on the developers' machines a local CPU wheel, but from PyPI on Linux
# torch is the CUDA build (several GB), so a fresh CPU-only machine should set TORCH_INDEX.
TORCH_INDEX ?=
TORCH_FROM := $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q $(TORCH_FROM) torch==2.13.0
	$(PY) -m pip install -q -e '.[test]'
	touch $@

setup: system-deps $(VENV)/.installed

# With no display (a server, CI), the window is drawn under Xvfb and saved as demo-window.png instead.
demo: setup
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then $(VENV)/bin/r2l-viewer; else \
		echo "no display here: drawing the viewer under Xvfb into demo-window.png"; \
		xvfb-run -a $(VENV)/bin/r2l-viewer --screenshot demo-window.png; fi

# The bundled demo scene (assets/demo.ckpt, at most 15 MB): the whole pipeline on the procedural scene, tiny preset
# (its student exactly as the preset makes it), with a coarser teacher grid (96^3, 6 features) to keep the file
# small. Takes 20-30 minutes on a 2-core CPU.
DEMO_RUN := runs/demo-asset
demo-assets: setup
	rm -rf $(DEMO_RUN)
	$(VENV)/bin/r2l-train all --data demo --downscale 4 --preset tiny --out $(DEMO_RUN)/scene.ckpt \
		--teacher.grid.resolution 96 --teacher.grid.features 6
	@size=$$(stat -c %s $(DEMO_RUN)/scene.ckpt); echo "demo checkpoint: $$size bytes"; \
	if [ $$size -gt 15000000 ]; then echo "too big for assets/ (limit 15 MB)"; exit 1; fi
	mkdir -p assets
	cp $(DEMO_RUN)/scene.ckpt assets/demo.ckpt

test: setup
	$(PY) -m pytest

clean:
	rm -rf $(VENV) runs .pytest_cache
